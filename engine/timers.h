#pragma once
// A process's timers: interval timers (setitimer) and POSIX timers (timer_create). The dump
// lists the POSIX ones from /proc/PID/timers and asks the task for the time each has left;
// the restore makes them again under the same ids, which the process holds as its timer_t.

#include <string>
#include <vector>

#include "engine/task_image.h"

namespace crossrig::engine {

/// The POSIX timers of /proc/PID/timers (id, clock, notification, signal and its value), by
/// ascending id, times left unset; throws std::runtime_error on text it cannot read.
std::vector<PosixTimerImage> parse_proc_timers(const std::string& text);

/// Why the timer cannot be made again in a restored process, or "" if it can.
std::string timer_refusal(const PosixTimerImage& t);

}  // namespace crossrig::engine
