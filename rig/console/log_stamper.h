#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "rig/console/text_cleaner.h"

namespace crossrig::rig::console {

/// "2026-12-01T07:33:50.123Z": UTC with milliseconds, as log lines are stamped.
std::string format_utc(std::chrono::system_clock::time_point t);

/// "20261201T073350.123Z": the same instant, safe in file names.
std::string format_utc_compact(std::chrono::system_clock::time_point t);

/// Turns console bytes into log text: cleaned of CR and ANSI escapes (TextCleaner), each line
/// prefixed with the time its first byte arrived and a space.
class LogStamper {
 public:
  /// Appends the stamped text of chunk to out; now stamps lines that start in this chunk.
  void feed(std::string_view chunk, std::chrono::system_clock::time_point now, std::string& out);
  /// True when the last line written is unfinished (the log then needs a newline at its end).
  bool mid_line() const { return !at_line_start_; }

 private:
  TextCleaner cleaner_;
  std::string text_;
  bool at_line_start_ = true;
};

}  // namespace crossrig::rig::console
