// An established TCP connection on loopback, dumped without --tcp-established: the dump must
// refuse it, naming the option, and leave both ends working.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_client = -1, g_server = -1;

void setup() {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(listener, reinterpret_cast<sockaddr*>(&a), len);
  listen(listener, 1);
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  g_client = socket(AF_INET, SOCK_STREAM, 0);
  connect(g_client, reinterpret_cast<sockaddr*>(&a), len);
  g_server = accept(listener, nullptr, nullptr);
  close(listener);
}

std::optional<std::string> check() {
  char c = 0;
  if (write(g_client, "x", 1) != 1 || read(g_server, &c, 1) != 1 || c != 'x')
    return "the connection no longer carries bytes";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
