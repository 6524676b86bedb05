// Timers with the time they have left: an ITIMER_REAL one-shot, an ITIMER_VIRTUAL periodic
// one, and POSIX timers with a gap in their ids (one deleted), each with another clock and
// notification (a signal with a value to the process, a signal to a thread, none). The
// process holds their ids as timer_t, so they must come back under the same ids; the
// signal of one is then made to fire and must carry its value.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr long kRealSec = 300, kVirtualSec = 200, kVirtualIntervalSec = 50;
constexpr long kSignalTimerSec = 400, kSignalIntervalSec = 10, kNoneTimerSec = 500;
void* const kSigval = reinterpret_cast<void*>(0x5eed);

timer_t g_signal_timer, g_deleted, g_thread_timer, g_none_timer;
std::string g_proc_timers;  // /proc/self/timers as set up
timespec g_start{};

std::string proc_timers() {
  std::ifstream f("/proc/self/timers");
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

double seconds_since(const timespec& t) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec - t.tv_sec) +
         static_cast<double>(now.tv_nsec - t.tv_nsec) / 1e9;
}

double seconds(const timespec& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void setup() {
  clock_gettime(CLOCK_MONOTONIC, &g_start);
  // Blocked signals stay pending instead of running a default action that ends the test.
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGALRM);
  sigaddset(&block, SIGVTALRM);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &block, nullptr);
  itimerval real{{0, 0}, {kRealSec, 0}};
  setitimer(ITIMER_REAL, &real, nullptr);
  itimerval virt{{kVirtualIntervalSec, 0}, {kVirtualSec, 0}};
  setitimer(ITIMER_VIRTUAL, &virt, nullptr);

  sigevent ev{};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR1;
  ev.sigev_value.sival_ptr = kSigval;
  timer_create(CLOCK_MONOTONIC, &ev, &g_signal_timer);
  itimerspec its{{kSignalIntervalSec, 0}, {kSignalTimerSec, 0}};
  timer_settime(g_signal_timer, 0, &its, nullptr);
  timer_create(CLOCK_MONOTONIC, nullptr, &g_deleted);
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGRTMIN + 1;
  ev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
  timer_create(CLOCK_BOOTTIME, &ev, &g_thread_timer);
  timer_delete(g_deleted);
  ev.sigev_notify = SIGEV_NONE;
  timer_create(CLOCK_REALTIME, &ev, &g_none_timer);
  its = {{0, 0}, {kNoneTimerSec, 0}};
  timer_settime(g_none_timer, 0, &its, nullptr);
  g_proc_timers = proc_timers();
}

// Whether left lies in (full - elapsed - slack, full]: time passes for a timer only while
// its process exists, so it never has more left than set nor less than the time since.
bool left_fits(double left, long full, double elapsed) {
  return left > static_cast<double>(full) - elapsed - 1 && left <= static_cast<double>(full);
}

std::optional<std::string> check() {
  const double elapsed = seconds_since(g_start);
  if (std::string now = proc_timers(); now != g_proc_timers)
    return "/proc/self/timers changed from\n" + g_proc_timers + "to\n" + now;
  itimerval real{}, virt{};
  getitimer(ITIMER_REAL, &real);
  getitimer(ITIMER_VIRTUAL, &virt);
  const double real_left =
      static_cast<double>(real.it_value.tv_sec) + static_cast<double>(real.it_value.tv_usec) / 1e6;
  if (!left_fits(real_left, kRealSec, elapsed) || real.it_interval.tv_sec != 0)
    return "ITIMER_REAL has " + std::to_string(real_left) + " s left after " +
           std::to_string(elapsed) + " s";
  if (virt.it_value.tv_sec == 0 || virt.it_value.tv_sec > kVirtualSec ||
      virt.it_interval.tv_sec != kVirtualIntervalSec)
    return "ITIMER_VIRTUAL has " + std::to_string(virt.it_value.tv_sec) + " s left, period " +
           std::to_string(virt.it_interval.tv_sec) + " s";
  itimerspec its{};
  if (timer_gettime(g_signal_timer, &its) != 0) return std::string("the signal timer is gone");
  if (!left_fits(seconds(its.it_value), kSignalTimerSec, elapsed) ||
      its.it_interval.tv_sec != kSignalIntervalSec)
    return "the signal timer has " + std::to_string(seconds(its.it_value)) + " s left, period " +
           std::to_string(its.it_interval.tv_sec) + " s";
  if (timer_gettime(g_none_timer, &its) != 0 ||
      !left_fits(seconds(its.it_value), kNoneTimerSec, elapsed))
    return "the SIGEV_NONE timer has " + std::to_string(seconds(its.it_value)) + " s left";
  if (timer_gettime(g_thread_timer, &its) != 0 || seconds(its.it_value) != 0)
    return std::string("the thread timer is gone or armed");
  // Fire the signal timer now: its signal must carry the value it was made with.
  its = {{0, 0}, {0, 1000000}};
  timer_settime(g_signal_timer, 0, &its, nullptr);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  siginfo_t info{};
  const timespec wait{10, 0};
  if (sigtimedwait(&usr1, &info, &wait) != SIGUSR1)
    return std::string("the signal timer did not fire");
  if (info.si_code != SI_TIMER || info.si_value.sival_ptr != kSigval)
    return "the signal timer's signal came with code " + std::to_string(info.si_code);
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
