// A netlink socket, which the dump cannot checkpoint yet: it must refuse, naming the socket's
// family.
#include <linux/netlink.h>
#include <sys/socket.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_netlink = -1;

void setup() {
  g_netlink = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
}

std::optional<std::string> check() {
  sockaddr_nl a{};
  socklen_t len = sizeof a;
  if (getsockname(g_netlink, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
      a.nl_family != AF_NETLINK)
    return "the netlink socket is gone";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
