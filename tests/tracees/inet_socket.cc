// A UDP socket on loopback, which the dump cannot checkpoint yet: it must refuse, naming the
// socket's family.
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_udp = -1;

void setup() {
  g_udp = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(g_udp, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

std::optional<std::string> check() {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (getsockname(g_udp, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_port == 0)
    return "the UDP socket lost its port";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
