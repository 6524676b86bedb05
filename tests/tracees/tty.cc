// A shell job on a terminal: stdin, stdout and stderr on its controlling terminal, in its own
// process group, which is the terminal's foreground group, inside the shell's session. After
// a restore with --shell-job onto another terminal it checks all of that there, says on the
// terminal which one it is on and reads a line the test types.
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

std::optional<std::string> state() {
  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return "no controlling terminal";
  close(fd);
  // A terminal's session is the one it is the controlling terminal of.
  for (int i = 0; i <= 2; ++i) {
    if (!isatty(i) || tcgetsid(i) != getsid(0))
      return "fd " + std::to_string(i) + " is not on the controlling terminal";
  }
  if (getpgrp() != getpid()) return "not a process-group leader";
  if (getsid(0) == getpid()) return "a session leader, not a job in a shell's session";
  if (tcgetpgrp(0) != getpgrp())
    return "not the foreground job (foreground group " + std::to_string(tcgetpgrp(0)) + ")";
  return std::nullopt;
}

std::string g_setup_error;

void setup() {
  if (auto why = state()) g_setup_error = "before the dump: " + *why;
}

std::optional<std::string> check() {
  if (!g_setup_error.empty()) return g_setup_error;
  if (auto why = state()) return why;
  std::string hello = std::string("tracee on ") + ttyname(1) + "\n";
  if (write(1, hello.data(), hello.size()) != static_cast<ssize_t>(hello.size()))
    return "cannot write to the terminal";
  char line[64] = {};
  ssize_t n = read(0, line, sizeof line - 1);
  if (n <= 0 || std::string(line) != "answer\n")
    return "read \"" + std::string(line) + "\" from the terminal, not the typed answer";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
