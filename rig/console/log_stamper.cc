#include "rig/console/log_stamper.h"

#include <cstdio>
#include <ctime>

namespace crossrig::rig::console {

namespace {
std::string format(std::chrono::system_clock::time_point t, bool compact) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf,
                compact ? "%04d%02d%02dT%02d%02d%02d.%03dZ" : "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}
}  // namespace

std::string format_utc(std::chrono::system_clock::time_point t) {
  return format(t, false);
}

std::string format_utc_compact(std::chrono::system_clock::time_point t) {
  return format(t, true);
}

void LogStamper::feed(std::string_view chunk, std::chrono::system_clock::time_point now,
                      std::string& out) {
  text_.clear();
  cleaner_.feed(chunk, text_);
  if (text_.empty()) return;
  std::string stamp = format_utc(now) + ' ';
  for (char c : text_) {
    if (at_line_start_) out += stamp;
    out.push_back(c);
    at_line_start_ = c == '\n';
  }
}

}  // namespace crossrig::rig::console
