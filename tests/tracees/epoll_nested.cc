// An epoll watching another epoll, which the dump cannot checkpoint yet: it must refuse,
// naming it.
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_outer = -1;

void setup() {
  int inner = epoll_create1(0), event = eventfd(1, 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  epoll_ctl(inner, EPOLL_CTL_ADD, event, &ev);
  g_outer = epoll_create1(0);
  epoll_ctl(g_outer, EPOLL_CTL_ADD, inner, &ev);
}

std::optional<std::string> check() {
  epoll_event ev{};
  if (epoll_wait(g_outer, &ev, 1, 0) != 1) return "the outer epoll lost its watch";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
