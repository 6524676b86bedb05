// A daemon left by a double fork: its session's leader exited, and it was re-parented to
// the root, a child subreaper. ckpt cannot make a session again without its leader, so the
// dump must refuse it by name and leave the tree running.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

pid_t g_daemon = -1;

void setup() {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int ready[2];
  pipe(ready);
  pid_t leader = fork();
  if (leader == 0) {
    setsid();
    if (fork() == 0) {
      sigset_t mask;
      sigprocmask(SIG_SETMASK, nullptr, &mask);
      sigdelset(&mask, SIGTERM);
      pid_t self = getpid();
      write(ready[1], &self, sizeof self);
      while (!stop_requested())
        sigsuspend(&mask);
      _exit(0);
    }
    _exit(0);
  }
  read(ready[0], &g_daemon, sizeof g_daemon);
  waitpid(leader, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
}

std::optional<std::string> check() {
  if (getsid(g_daemon) == getsid(0)) return std::string("the daemon is in the root's session");
  kill(g_daemon, SIGTERM);
  int status = 0;
  if (waitpid(g_daemon, &status, 0) != g_daemon) return std::string("the daemon is gone");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "the daemon ended with status " + std::to_string(status);
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
