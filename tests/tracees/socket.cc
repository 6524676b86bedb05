// A socket pair, which the dump cannot checkpoint yet: it must refuse, naming the socket.
#include <sys/socket.h>
#include <unistd.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_pair[2] = {-1, -1};

void setup() {
  socketpair(AF_UNIX, SOCK_STREAM, 0, g_pair);
  (void)!write(g_pair[0], "x", 1);
}

std::optional<std::string> check() {
  char c = 0;
  if (read(g_pair[1], &c, 1) != 1 || c != 'x') return "the socket lost its byte";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
