#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crossrig::rig::matrix {

/// A test case's status in the matrix. kError: the test or its job did not complete (LAVA's
/// "unknown", a job that could not run); kMiss: a test an earlier night of the board reported
/// that this night's job did not.
enum class Status { kPass, kFail, kSkip, kError, kMiss };

/// "pass", "fail", "skip", "error", "miss".
std::string_view status_name(Status s);
/// The inverse of status_name, and LAVA's "unknown" as kError; nullopt for anything else.
std::optional<Status> parse_status(std::string_view name);

/// One test case a board's job reported.
struct TestResult {
  std::string name;  ///< As the job named it: "ckpt/restore_threads", "uname".
  Status status = Status::kError;
  std::optional<double> measurement;
  std::string units;
};

/// The source the night's payloads were built from.
struct Source {
  std::string repository;  ///< A git remote's URL, empty if none.
  std::string commit;      ///< 40 hex digits, empty when not a git checkout.
  std::string branch;
  std::string describe;  ///< `git describe --always --dirty`.
};

/// One arch's build: the command `rig matrix --build` ran for it and what it made.
struct Build {
  std::string arch;
  bool ok = false;      ///< The build command exited 0.
  std::string command;  ///< With {arch} substituted.
  std::string log;      ///< Relative to the night's directory: build-ARCH.log.
  std::string started;  ///< RFC 3339, UTC.
  double seconds = 0;
  std::string kernel, ramdisk;  ///< Absolute paths the build named (its manifest), or empty.
  std::string kernel_release, source;
};

/// One board's job of the night.
struct BoardRun {
  std::string board, arch, boot;
  /// The job's result as `rig run` reports it: "pass", "fail" or "error" (it could not run, or
  /// its build failed, in which case error says so).
  std::string result;
  std::string error;
  /// Relative to the night's directory: the job's console log, else rig run's stderr when the
  /// job ended before the console opened; empty if neither exists.
  std::string console_log;
  std::string job_dir;  ///< Relative to the night's directory.
  std::string kernel;   ///< The kernel the board booted (absolute), if known.
  std::string kernel_sha256;
  std::string started;  ///< RFC 3339, UTC.
  double seconds = 0;   ///< The whole job, staging to power-off.
  /// The last attempt's stages: power-on to the kernel's first line, to STARTRUN, to ENDRUN.
  std::optional<double> firmware_s, kernel_s, job_s;
  std::vector<TestResult> tests;
};

/// Everything one `rig matrix` run found: results/DATE/results.json.
struct Night {
  std::string date;               ///< YYYY-MM-DD, also the directory's name.
  std::string started, finished;  ///< RFC 3339, UTC.
  std::string host;               ///< The lab host's name.
  Source source;
  std::vector<Build> builds;
  std::vector<BoardRun> boards;

  /// The run of the board with this name, or nullptr.
  const BoardRun* find(const std::string& board) const;
};

nlohmann::json to_json(const Night& night);

/// Parses results.json; throws std::runtime_error naming origin and the bad field.
Night night_from_json(const nlohmann::json& j, const std::string& origin);

/// A board run from `rig run`'s results JSON (see rig/jobs/README.md), its paths made relative
/// to night_dir where they lie below it.
BoardRun board_run_from_job(const nlohmann::json& job, const std::string& night_dir);

}  // namespace crossrig::rig::matrix
