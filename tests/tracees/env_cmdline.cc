// argv, environment and a setproctitle-style rewrite of the argv area survive.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

std::string cmdline() {
  std::ifstream f("/proc/self/cmdline");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string g_before;

void setup() {
  setenv("CKPT_TRACEE_VALUE", "forty-two", 1);
  g_before = cmdline();
}

std::optional<std::string> check() {
  const char* v = getenv("CKPT_TRACEE_VALUE");
  if (v == nullptr || std::strcmp(v, "forty-two") != 0) return "environment variable lost";
  if (cmdline() != g_before) return "/proc/self/cmdline changed: " + cmdline();
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
