// Event objects with their state across checkpoint/restore: an eventfd holding a count, a
// semaphore eventfd, a signalfd with a blocked signal queued, and timers: one due in an hour,
// one that fired once and waits an hour for its next period (one unread expiration), a fast
// periodic one whose expirations pile up unread, and an absolute realtime one cancelled by a
// clock change. Times are checked against bounds the elapsed time gives, never exactly.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr std::int64_t kHourNs = 3600LL * 1000000000, kFastNs = 10 * 1000000;
int g_counter = -1, g_sem = -1, g_sig = -1, g_hour = -1, g_fired = -1, g_fast = -1, g_abs = -1;
std::int64_t g_setup_ns = 0;

std::int64_t ns(const timespec& t) {
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

std::int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return ns(t);
}

void arm(int fd, int flags, std::int64_t value_ns, std::int64_t interval_ns) {
  itimerspec its{{interval_ns / 1000000000, interval_ns % 1000000000},
                 {value_ns / 1000000000, value_ns % 1000000000}};
  timerfd_settime(fd, flags, &its, nullptr);
}

std::string fdinfo(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reads one 8-byte value; nullopt-like -1 when nothing is there (every fd is non-blocking).
std::int64_t read_u64(int fd) {
  std::uint64_t v = 0;
  return read(fd, &v, sizeof v) == sizeof v ? static_cast<std::int64_t>(v) : -1;
}

void setup() {
  g_setup_ns = now_ns();
  g_counter = eventfd(5, EFD_NONBLOCK);
  std::uint64_t more = 37;
  (void)!write(g_counter, &more, sizeof more);
  g_sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  sigaddset(&mask, SIGUSR2);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  g_sig = signalfd(-1, &mask, SFD_NONBLOCK);
  sigqueue(getpid(), SIGUSR1, sigval{4242});

  g_hour = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  arm(g_hour, 0, kHourNs, 0);
  g_fired = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
  arm(g_fired, 0, 1000000, kHourNs);
  pollfd p{g_fired, POLLIN, 0};
  poll(&p, 1, 5000);
  g_fast = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  arm(g_fast, 0, kFastNs, kFastNs);
  timespec pause{0, 11 * kFastNs};
  nanosleep(&pause, nullptr);
  g_abs = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
  timespec real{};
  clock_gettime(CLOCK_REALTIME, &real);
  arm(g_abs, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, ns(real) + kHourNs, 0);
}

// The time left on a timer must lie between an hour minus what has elapsed since setup
// (a restore only pauses it) and an hour.
std::optional<std::string> check_hour_left(const char* what, int fd, std::int64_t interval_ns) {
  itimerspec its{};
  if (timerfd_gettime(fd, &its) != 0) return std::string(what) + ": timerfd_gettime failed";
  const std::int64_t left = ns(its.it_value), elapsed = now_ns() - g_setup_ns;
  if (left > kHourNs || left < kHourNs - elapsed - 1000000000)
    return std::string(what) + " has " + std::to_string(left) + " ns left, " +
           std::to_string(elapsed) + " ns after it was armed an hour ahead";
  if (ns(its.it_interval) != interval_ns)
    return std::string(what) + " has an interval of " + std::to_string(ns(its.it_interval)) + " ns";
  return std::nullopt;
}

std::optional<std::string> check() {
  if (!(fcntl(g_counter, F_GETFL) & O_NONBLOCK)) return "the eventfd lost O_NONBLOCK";
  if (auto bad = expect_eq("the eventfd's count", read_u64(g_counter), std::int64_t{42}))
    return bad;
  if (read_u64(g_counter) != -1) return "the eventfd counts again after being read";
  for (int i = 0; i < 3; ++i) {
    if (auto bad = expect_eq("a read of the semaphore eventfd", read_u64(g_sem), std::int64_t{1}))
      return bad;
  }
  if (read_u64(g_sem) != -1) return "the semaphore eventfd had more than 3";

  signalfd_siginfo si{};
  if (read(g_sig, &si, sizeof si) != sizeof si) return "the signalfd reads no queued SIGUSR1";
  if (auto bad = expect_eq("the signal read", si.ssi_signo, std::uint32_t{SIGUSR1})) return bad;
  if (auto bad = expect_eq("its value", si.ssi_int, std::int32_t{4242})) return bad;
  if (fdinfo(g_sig).find("sigmask:\t0000000000000a00") == std::string::npos)
    return "the signalfd's mask is not SIGUSR1 and SIGUSR2: " + fdinfo(g_sig);

  if (auto bad = check_hour_left("the timer due in an hour", g_hour, 0)) return bad;
  if (auto bad =
          expect_eq("the fired timer's unread expirations", read_u64(g_fired), std::int64_t{1}))
    return bad;
  if (auto bad = check_hour_left("the fired timer", g_fired, kHourNs)) return bad;
  if (fdinfo(g_fired).find("clockid: 7\n") == std::string::npos)
    return "the fired timer is not on CLOCK_BOOTTIME: " + fdinfo(g_fired);
  const std::int64_t most = (now_ns() - g_setup_ns) / kFastNs + 1, fast = read_u64(g_fast);
  if (fast < 10 || fast > most)
    return "the fast timer counted " + std::to_string(fast) + " expirations, expected 10 to " +
           std::to_string(most);
  if (auto bad = check_hour_left("the absolute realtime timer", g_abs, 0)) return bad;
  if (fdinfo(g_abs).find("settime flags: 03\n") == std::string::npos)
    return "the absolute timer lost TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET: " + fdinfo(g_abs);
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
