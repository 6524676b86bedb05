// An epoll set over a pipe with bytes queued, an eventfd with a count and a timer due in an
// hour, each with its own data. After restore the ready ones (pipe, eventfd) are reported with
// their data, and the process still reaches each watch by its fd number: EPOLL_CTL_ADD of a
// watched fd fails with EEXIST, EPOLL_CTL_MOD and EPOLL_CTL_DEL find it.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr std::uint64_t kPipeData = 0x1111000000000001, kEventData = 0x2222, kTimerData = 0x3333;
int g_epoll = -1, g_pipe[2] = {-1, -1}, g_event = -1, g_timer = -1;

bool watch(int op, int fd, std::uint32_t events, std::uint64_t data) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return epoll_ctl(g_epoll, op, fd, &ev) == 0;
}

void setup() {
  (void)!pipe(g_pipe);
  (void)!write(g_pipe[1], "x", 1);
  g_event = eventfd(1, EFD_NONBLOCK);
  g_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  itimerspec hour{{0, 0}, {3600, 0}};
  timerfd_settime(g_timer, 0, &hour, nullptr);
  g_epoll = epoll_create1(EPOLL_CLOEXEC);
  watch(EPOLL_CTL_ADD, g_pipe[0], EPOLLIN, kPipeData);
  watch(EPOLL_CTL_ADD, g_event, EPOLLIN | EPOLLET, kEventData);
  watch(EPOLL_CTL_ADD, g_timer, EPOLLIN, kTimerData);
}

// The data of the ready watches, in the order epoll reports them, or "" on a bad event.
std::string ready() {
  epoll_event evs[8];
  int n = epoll_wait(g_epoll, evs, 8, 0);
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (!(evs[i].events & EPOLLIN)) return "";
    out += std::to_string(evs[i].data.u64) + " ";
  }
  return out;
}

std::optional<std::string> check() {
  const std::string both = std::to_string(kPipeData) + " " + std::to_string(kEventData) + " ",
                    swapped = std::to_string(kEventData) + " " + std::to_string(kPipeData) + " ";
  if (std::string r = ready(); r != both && r != swapped)
    return "epoll reports \"" + r + "\", expected the pipe and the eventfd: \"" + both + "\"";
  if (watch(EPOLL_CTL_ADD, g_timer, EPOLLIN, 0) || errno != EEXIST)
    return "the timer's fd is not watched under its number";
  if (!watch(EPOLL_CTL_DEL, g_pipe[0], 0, 0)) return "EPOLL_CTL_DEL of the pipe failed";
  if (!watch(EPOLL_CTL_DEL, g_timer, 0, 0)) return "EPOLL_CTL_DEL of the timer failed";
  if (!watch(EPOLL_CTL_MOD, g_event, EPOLLIN, 0x4444)) return "EPOLL_CTL_MOD of the eventfd failed";
  if (std::string r = ready(); r != std::to_string(0x4444) + " ")
    return "after DEL and MOD epoll reports \"" + r + "\", expected the eventfd's new data";
  if (!watch(EPOLL_CTL_ADD, g_pipe[0], EPOLLIN, 1)) return "the pipe cannot be watched again";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
