// umask, cwd, /proc/self/exe, comm and rlimits survive.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

std::string g_exe;
// A directory of the tracee's own: the boards' ramdisks have no /usr/share.
std::string g_cwd;

std::string link(const char* p) {
  char buf[PATH_MAX];
  ssize_t n = readlink(p, buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

void setup() {
  umask(0027);
  mkdir("attrs-cwd", 0755);
  if (chdir("attrs-cwd") == 0) g_cwd = link("/proc/self/cwd");
  g_exe = link("/proc/self/exe");
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = 321;
  setrlimit(RLIMIT_NOFILE, &r);
  prctl(PR_SET_NAME, "ckpt-attrs");
}

std::optional<std::string> check() {
  mode_t m = umask(0);
  if (m != 0027) return "umask is " + std::to_string(m);
  if (g_cwd.empty()) return "setup could not enter attrs-cwd";
  if (link("/proc/self/cwd") != g_cwd) return "cwd is " + link("/proc/self/cwd") + ", not " + g_cwd;
  if (link("/proc/self/exe") != g_exe) return "exe is " + link("/proc/self/exe");
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur != 321) return "RLIMIT_NOFILE soft limit is " + std::to_string(r.rlim_cur);
  char name[17] = {};
  prctl(PR_GET_NAME, name);
  if (std::string(name) != "ckpt-attrs") return std::string("comm is ") + name;
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
