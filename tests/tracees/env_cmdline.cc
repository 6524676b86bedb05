// argv, environment and a setproctitle-style rewrite of the argv area survive.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
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

// Overwrites the start of the argv area in place, as setproctitle() does; arg_start is
// field 48 of /proc/self/stat.
void set_title(const char* title) {
  std::ifstream f("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int n = 3; n <= 48 && rest >> field; ++n) {
  }
  char* arg0 = reinterpret_cast<char*>(std::stoul(field));
  std::size_t len = std::strlen(arg0);
  std::memset(arg0, 0, len);
  std::memcpy(arg0, title, std::min(len, std::strlen(title)));
}

void setup() {
  setenv("CKPT_TRACEE_VALUE", "forty-two", 1);
  set_title("ckpt-title");
  g_before = cmdline();
}

std::optional<std::string> check() {
  const char* v = getenv("CKPT_TRACEE_VALUE");
  if (v == nullptr || std::strcmp(v, "forty-two") != 0) return "environment variable lost";
  if (cmdline() != g_before) return "/proc/self/cmdline changed: " + cmdline();
  if (g_before.rfind("ckpt-title", 0) != 0) return "title rewrite did not take: " + g_before;
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
