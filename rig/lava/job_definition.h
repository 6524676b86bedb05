#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rig/inventory/board.h"

namespace crossrig::rig::lava {

/// Where a LAVA worker fetches a job's files from.
struct FileSource {
  /// The URL the lab serves the inventory file's directory at (`--files-url`); without it,
  /// file:// URLs of the files' own paths, for a worker on the host that holds them.
  std::optional<std::string> files_url;
  /// The inventory file's directory, absolute: the job's paths are made relative to it.
  std::string inventory_dir;
};

/// The URL a worker fetches the file at path (absolute) from, or the problem as text.
std::variant<std::string, std::string> file_url(const std::string& path, const FileSource& source);

/// The start, end and test case patterns of the job's `monitors` test action: the lines the
/// lab's ramdisks print on the console (LAVA parses LAVA_SIGNAL lines only inside its own
/// test shell, which these ramdisks do not run). Python regular expressions, as LAVA's are.
struct MonitorPatterns {
  std::string_view start, end, test_case;
};

/// The patterns every exported job watches the console with.
const MonitorPatterns& monitor_patterns();

/// The LAVA job definition (YAML) of the board's default job: deploy to the worker's TFTP
/// server and boot by the board's firmware (or, for firmware LAVA cannot drive, a power cycle),
/// then watch the console for the ramdisk's result lines. Returns the text, or every problem
/// as "FIELD: what to fix". The board must have a job.
std::variant<std::string, std::vector<std::string>> job_definition(const Board& board,
                                                                   const FileSource& source,
                                                                   std::string_view inventory);

/// The name exported jobs of a board's default job carry in their file name.
inline constexpr std::string_view kDefaultJobName = "default";

}  // namespace crossrig::rig::lava
