// An inotify instance, which the dump cannot checkpoint yet: it must refuse, naming it.
#include <sys/inotify.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_fd = -1;

void setup() {
  g_fd = inotify_init1(0);
  inotify_add_watch(g_fd, ".", IN_CREATE);
}

std::optional<std::string> check() {
  if (inotify_add_watch(g_fd, ".", IN_CREATE) < 0) return "the inotify instance is gone";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
