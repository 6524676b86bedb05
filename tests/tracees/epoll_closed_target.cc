// An epoll watching an eventfd through an fd number the process closed after EPOLL_CTL_ADD
// (the eventfd lives on under another number): the watch cannot be registered again by its
// number, so the dump must refuse it, naming it.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_epoll = -1, g_event = -1;

void setup() {
  int first = eventfd(1, 0);
  g_epoll = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  epoll_ctl(g_epoll, EPOLL_CTL_ADD, first, &ev);
  g_event = dup(first);
  close(first);
}

std::optional<std::string> check() {
  epoll_event ev{};
  if (epoll_wait(g_epoll, &ev, 1, 0) != 1) return "the epoll lost its watch";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
