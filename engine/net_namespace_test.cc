#include "engine/net_namespace.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "engine/ckpt_error.h"
#include "tests/support/namespaced_process.h"

namespace crossrig::engine {
namespace {

using test_support::NamespacedProcess;

ino_t own_net() {
  struct stat st {};
  EXPECT_EQ(::stat("/proc/thread-self/ns/net", &st), 0);
  return st.st_ino;
}

// Binds an abstract unix name (or connects to it); returns the socket, or -1 with errno.
int abstract_socket(const std::string& name, bool bind_it) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path + 1, name.data(), name.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  int r = bind_it ? ::bind(fd, reinterpret_cast<sockaddr*>(&a), len)
                  : ::connect(fd, reinterpret_cast<sockaddr*>(&a), len);
  if (r == 0 && bind_it) r = ::listen(fd, 1);
  if (r != 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

TEST(InNetNamespace, JoinsForItsLifetimeAndComesBack) {
  NamespacedProcess ns(CLONE_NEWNET);
  const ino_t home = own_net();
  const std::string name = "crossrig-net-namespace-test-" + std::to_string(::getpid());
  int listener = -1;
  {
    InNetNamespace in(ns.pid());
    EXPECT_NE(own_net(), home);
    listener = abstract_socket(name, true);
    ASSERT_GE(listener, 0) << std::strerror(errno);
    int client = abstract_socket(name, false);
    EXPECT_GE(client, 0) << "the name is not reachable inside: " << std::strerror(errno);
    ::close(client);
  }
  EXPECT_EQ(own_net(), home);
  // The name lives in the tree's namespace only.
  EXPECT_EQ(abstract_socket(name, false), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(listener);
}

TEST(Loopback, DownInAFreshNamespaceThenUp) {
  NamespacedProcess ns(CLONE_NEWNET);
  InNetNamespace in(ns.pid());
  EXPECT_FALSE(read_loopback_up(ns.pid()));
  bring_loopback_up();
  EXPECT_TRUE(read_loopback_up(ns.pid()));
  // Up, it has its addresses: 127.0.0.1 can be bound.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  ::close(fd);
}

TEST(Loopback, RefusesAnAddressOfItsOwnNamingIt) {
  NamespacedProcess ns(CLONE_NEWNET);
  InNetNamespace in(ns.pid());
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq req{};
  std::strcpy(req.ifr_name, "lo");
  auto* addr = reinterpret_cast<sockaddr_in*>(&req.ifr_addr);
  addr->sin_family = AF_INET;
  ::inet_pton(AF_INET, "10.1.2.3", &addr->sin_addr);
  ASSERT_EQ(::ioctl(fd, SIOCSIFADDR, &req), 0) << std::strerror(errno);
  ::close(fd);
  try {
    read_loopback_up(ns.pid());
    FAIL() << "a namespace whose lo has 10.1.2.3 was accepted";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("lo has address 10.1.2.3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crossrig::engine
