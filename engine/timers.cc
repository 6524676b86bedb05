#include "engine/timers.h"

#include <signal.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace crossrig::engine {
namespace {

[[noreturn]] void malformed(const std::string& line) {
  throw std::runtime_error("malformed line \"" + line + "\" in /proc/PID/timers");
}

// The kernel names sigev_notify without SIGEV_THREAD_ID, which it adds as "tid".
int notify_of(const std::string& line) {
  char how[16] = {}, target[8] = {};
  int id = 0;
  if (std::sscanf(line.c_str(), "notify: %15[a-z]/%7[a-z].%d", how, target, &id) != 3)
    malformed(line);
  const std::string h = how, t = target;
  int notify = h == "signal"   ? SIGEV_SIGNAL
               : h == "none"   ? SIGEV_NONE
               : h == "thread" ? SIGEV_THREAD
                               : -1;
  if (notify < 0 || (t != "pid" && t != "tid")) malformed(line);
  return t == "tid" ? notify | SIGEV_THREAD_ID : notify;
}

}  // namespace

std::vector<PosixTimerImage> parse_proc_timers(const std::string& text) {
  std::vector<PosixTimerImage> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.starts_with("ID:")) {
      out.emplace_back();
      if (std::sscanf(line.c_str(), "ID: %d", &out.back().id) != 1) malformed(line);
      continue;
    }
    if (out.empty()) malformed(line);
    PosixTimerImage& t = out.back();
    if (line.starts_with("signal:")) {
      if (std::sscanf(line.c_str(), "signal: %d/%" SCNx64, &t.signo, &t.sigval) != 2)
        malformed(line);
    } else if (line.starts_with("notify:")) {
      t.notify = notify_of(line);
      if (t.notify & SIGEV_THREAD_ID) std::sscanf(line.c_str(), "notify: %*[a-z]/tid.%d", &t.tid);
    } else if (line.starts_with("ClockID:")) {
      if (std::sscanf(line.c_str(), "ClockID: %d", &t.clockid) != 1) malformed(line);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const PosixTimerImage& a, const PosixTimerImage& b) { return a.id < b.id; });
  return out;
}

std::string timer_refusal(const PosixTimerImage& t) {
  // A negative clock id encodes another task's CPU-time clock (clock_getcpuclockid).
  if (t.clockid < 0)
    return "POSIX timer " + std::to_string(t.id) + " runs on CPU-time clock " +
           std::to_string(t.clockid) + " of a task, which ckpt cannot checkpoint yet";
  return "";
}

}  // namespace crossrig::engine
