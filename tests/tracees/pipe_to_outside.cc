// The write end of a pipe whose reader is outside the dumped tree: an orphaned grandchild,
// reparented away from the tracee. The dump must refuse it rather than restore a pipe nobody
// reads; the reader ends when the tracee closes its end.
#include <sys/wait.h>
#include <unistd.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_out = -1;

void setup() {
  int ends[2];
  pipe(ends);
  pid_t middle = fork();
  if (middle == 0) {
    if (fork() == 0) {
      close(ends[1]);
      char buf[64];
      while (read(ends[0], buf, sizeof buf) > 0) {
      }
      _exit(0);
    }
    _exit(0);
  }
  waitpid(middle, nullptr, 0);
  close(ends[0]);
  g_out = ends[1];
}

std::optional<std::string> check() {
  if (write(g_out, "x", 1) != 1) return "the reader outside is gone";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
