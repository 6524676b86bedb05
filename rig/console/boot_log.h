#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/unique_fd.h"
#include "rig/console/log_stamper.h"

namespace crossrig::rig::console {

/// The log files of one boot (one upstream connection): BASE.log, stamped text written as it
/// arrives, and with raw=true BASE.raw, the bytes untouched. Both are created exclusively (an
/// existing log is never overwritten); BOARD-current.log is then pointed at the new log.
/// A failing write (disk full) is reported once on stderr; the console keeps being served.
class BootLog {
 public:
  /// Creates dir if needed and opens the files; throws std::runtime_error naming the path.
  BootLog(const std::filesystem::path& dir, std::string_view board, std::string_view base,
          bool raw);
  /// Appends console bytes.
  void write(std::string_view bytes, std::chrono::system_clock::time_point now);
  /// Appends a stamped line of the multiplexer's own (starting with "###"), after a newline
  /// if the console's last line is unfinished.
  void note(std::string_view text, std::chrono::system_clock::time_point now);
  /// The stamped log's path.
  const std::filesystem::path& path() const { return path_; }

 private:
  void put(int fd, std::string_view bytes);

  std::filesystem::path path_;
  UniqueFd log_, raw_;
  LogStamper stamper_;
  std::string out_;
  bool failed_ = false;
};

}  // namespace crossrig::rig::console
