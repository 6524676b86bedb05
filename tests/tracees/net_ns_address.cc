// A process in a network namespace of its own whose lo has an address added, which a new
// namespace would not have: the dump must refuse it, naming the address, and leave it running.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

ino_t g_net = 0;

ino_t own_net() {
  struct stat st {};
  return stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
}

void setup() {
  unshare(CLONE_NEWNET);
  g_net = own_net();
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq req{};
  std::strcpy(req.ifr_name, "lo");
  auto* addr = reinterpret_cast<sockaddr_in*>(&req.ifr_addr);
  addr->sin_family = AF_INET;
  inet_pton(AF_INET, "10.1.2.3", &addr->sin_addr);
  ioctl(fd, SIOCSIFADDR, &req);
  close(fd);
}

std::optional<std::string> check() {
  if (own_net() != g_net) return std::string("the network namespace changed");
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
