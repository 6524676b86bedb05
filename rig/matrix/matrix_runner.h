#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rig/inventory/board.h"
#include "rig/matrix/night.h"

namespace crossrig::rig::matrix {

/// How `rig matrix` runs a night.
struct RunOptions {
  std::string date;  ///< YYYY-MM-DD
  /// The inventory file the jobs read (passed to each `rig run`).
  std::string inventory;
  /// Shell command run once per arch before the jobs, "{arch}" replaced; empty: no builds.
  std::string build_command;
  /// A git checkout the night's payloads come from, recorded as the night's source.
  std::string source_dir;
  /// How many boards run their jobs at once.
  int parallel = 2;
  /// Passed on to `rig run` when set: --timeout, --retries, --wait.
  std::optional<std::string> timeout, retries, wait;
  /// The rig binary the jobs run with.
  std::string rig;
  /// Called with each line of progress.
  std::function<void(const std::string&)> progress;
};

/// Builds every arch of boards (when a build command is given), runs each board's job with
/// `rig run` into night_dir/BOARD (the build's kernel and ramdisk when it named them, else the
/// board's inventory job), parallel boards at a time, and returns the night. A board whose
/// arch did not build, or whose job could not start, is a board run with result "error".
Night run_night(const std::vector<Board>& boards, const RunOptions& options,
                const std::string& night_dir);

/// A night of this date begun now on this host, from the git checkout at source_dir, with no
/// builds or board runs yet.
Night begin_night(const std::string& date, const std::string& source_dir);

/// The night's source from a git checkout (remote URL, commit, branch, describe); empty
/// fields where git has no answer.
Source git_source(const std::string& dir);

}  // namespace crossrig::rig::matrix
