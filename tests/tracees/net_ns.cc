// A process in a network namespace of its own, which ckpt cannot make again yet: the dump
// must refuse it, naming the namespace, and leave it running.
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

ino_t g_net = 0;

ino_t own_net() {
  struct stat st {};
  return stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
}

void setup() {
  unshare(CLONE_NEWNET);
  g_net = own_net();
}

std::optional<std::string> check() {
  if (own_net() != g_net) return std::string("the network namespace changed");
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
