// A file lease (F_SETLEASE), which the dump cannot checkpoint yet: it must refuse, naming it.
#include <fcntl.h>
#include <unistd.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_fd = -1;

void setup() {
  close(open("ckpt-lease.dat", O_WRONLY | O_CREAT | O_TRUNC, 0600));  // in the run's cwd
  g_fd = open("ckpt-lease.dat", O_RDONLY);
  fcntl(g_fd, F_SETLEASE, F_RDLCK);
}

std::optional<std::string> check() {
  if (fcntl(g_fd, F_GETLEASE) != F_RDLCK) return "the lease is gone";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
