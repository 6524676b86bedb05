// A process started in UTS and IPC namespaces of its own, as a container runtime starts one,
// with a hostname and domain name of its own and a child in the same namespaces: restore
// makes new namespaces for the tree and sets the names again.
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr const char* kHostname = "ckpt-tracee-host";
constexpr const char* kDomain = "ckpt.example";
pid_t g_child = -1;

ino_t ns_of(pid_t pid, const char* kind) {
  struct stat st {};
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + kind;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

void setup() {
  unshare(CLONE_NEWUTS | CLONE_NEWIPC);
  sethostname(kHostname, std::strlen(kHostname));
  setdomainname(kDomain, std::strlen(kDomain));
  g_child = fork();
  if (g_child == 0) {
    sigset_t mask;
    sigprocmask(SIG_SETMASK, nullptr, &mask);
    sigdelset(&mask, SIGTERM);
    while (!stop_requested())
      sigsuspend(&mask);
    utsname u{};
    uname(&u);
    _exit(std::string(u.nodename) == kHostname ? 0 : 1);
  }
}

std::optional<std::string> check_ns() {
  utsname u{};
  uname(&u);
  if (std::string(u.nodename) != kHostname || std::string(u.domainname) != kDomain)
    return "the hostname is " + std::string(u.nodename) + " and the domain " + u.domainname;
  // The parent (the test driver) stays in the machine's namespaces.
  for (const char* kind : {"uts", "ipc"}) {
    if (ns_of(getpid(), kind) == ns_of(getppid(), kind))
      return std::string("the ") + kind + " namespace is its parent's, not its own";
    if (ns_of(g_child, kind) != ns_of(getpid(), kind))
      return std::string("the child left the ") + kind + " namespace";
  }
  return std::nullopt;
}

std::optional<std::string> check() {
  auto why = check_ns();
  kill(g_child, SIGTERM);
  int status = 0;
  if (waitpid(g_child, &status, 0) != g_child) return why ? why : "the child is gone";
  if (!why && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
    return "the child saw another hostname (status " + std::to_string(status) + ")";
  return why;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
