// A task sleeping in nanosleep (restart-block syscall) resumes sleeping after restore.
#include <time.h>

#include <cerrno>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_errors = 0;

void setup() {}

void wait() {
  while (!stop_requested()) {
    timespec ts{0, 50'000'000};
    timespec rem{};
    while (nanosleep(&ts, &rem) != 0) {
      if (errno != EINTR) {
        ++g_errors;
        break;
      }
      if (stop_requested()) return;
      ts = rem;
    }
  }
}

std::optional<std::string> check() {
  return expect_eq("nanosleep errors", g_errors, 0);
}

}  // namespace
const Test kTest{setup, wait, check};
}  // namespace crossrig::tracee
