// A stream socket connected to one held by a process outside the dumped tree (an orphaned
// grandchild, reparented away from the tracee). The dump must refuse it rather than restore
// a connection to nobody; the grandchild echoes until the tracee closes its end.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_socket = -1;

void setup() {
  int ends[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, ends);
  pid_t middle = fork();
  if (middle == 0) {
    if (fork() == 0) {
      close(ends[0]);
      char buf[64];
      for (ssize_t n; (n = read(ends[1], buf, sizeof buf)) > 0;)
        (void)!write(ends[1], buf, static_cast<std::size_t>(n));
      _exit(0);
    }
    _exit(0);
  }
  waitpid(middle, nullptr, 0);
  close(ends[1]);
  g_socket = ends[0];
}

std::optional<std::string> check() {
  char c = 0;
  if (write(g_socket, "x", 1) != 1 || read(g_socket, &c, 1) != 1 || c != 'x')
    return "the echo outside is gone";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
