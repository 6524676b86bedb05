// TCP and UDP sockets on loopback across checkpoint/restore (dumped with --tcp-established): a
// listener; an established connection with bytes queued both ways, one way more than the
// peer's receive window takes, so the sender holds bytes it has not sent yet; options on each end
// (TCP_NODELAY, SO_KEEPALIVE); a TCP socket bound but not listening; a UDP socket connected to
// another; and, where the kernel has IPv6, an IPv6-only listener with a connection. The ends of
// each connection close with a reset (SO_LINGER 0), so that no TIME_WAIT keeps their ports from the
// restored copy of the same connection.
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

struct Connection {
  int client = -1, server = -1;
};

int g_listener = -1, g_bound = -1, g_udp_a = -1, g_udp_b = -1, g_listener6 = -1;
Connection g_tcp, g_tcp6;
std::size_t g_flood = 0;  // bytes the server wrote after "response", which the client has not read
int g_bound_port = 0, g_listener_port = 0;

int port_of(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&a)->sin6_port
                                       : reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

sockaddr_storage loopback(int family, int port, socklen_t* len) {
  sockaddr_storage a{};
  if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    in6->sin6_port = htons(static_cast<std::uint16_t>(port));
    *len = sizeof *in6;
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&a);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in->sin_port = htons(static_cast<std::uint16_t>(port));
    *len = sizeof *in;
  }
  return a;
}

int bound(int family, int type) {
  int fd = socket(family, type, 0);
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  socklen_t len = 0;
  sockaddr_storage a = loopback(family, 0, &len);
  bind(fd, reinterpret_cast<sockaddr*>(&a), len);
  return fd;
}

Connection connect_to(int listener, int family) {
  Connection c;
  c.client = socket(family, SOCK_STREAM, 0);
  socklen_t len = 0;
  sockaddr_storage a = loopback(family, port_of(listener), &len);
  connect(c.client, reinterpret_cast<sockaddr*>(&a), len);
  c.server = accept(listener, nullptr, nullptr);
  return c;
}

char pattern(std::size_t i) {
  return static_cast<char>('a' + i % 23);
}

void setup() {
  g_listener = bound(AF_INET, SOCK_STREAM);
  listen(g_listener, 4);
  g_listener_port = port_of(g_listener);
  g_tcp = connect_to(g_listener, AF_INET);
  const int on = 1;
  setsockopt(g_tcp.client, SOL_TCP, TCP_NODELAY, &on, sizeof on);
  setsockopt(g_tcp.server, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  (void)!write(g_tcp.client, "request", 7);
  (void)!write(g_tcp.server, "response", 8);
  // Until the client's receive window is full and the server holds 256 KiB it could not send
  // yet (or its send buffer is full).
  std::vector<char> chunk(16384);
  for (int idle = 0, unsent = 0; idle < 3 && unsent < 256 * 1024;
       ioctl(g_tcp.server, SIOCOUTQNSD, &unsent)) {
    for (std::size_t i = 0; i < chunk.size(); ++i)
      chunk[i] = pattern(g_flood + i);
    ssize_t n = send(g_tcp.server, chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n > 0) {
      g_flood += static_cast<std::size_t>(n);
      idle = 0;
    } else {
      ++idle;
      usleep(20000);
    }
  }

  g_bound = bound(AF_INET, SOCK_STREAM);
  g_bound_port = port_of(g_bound);

  g_udp_a = bound(AF_INET, SOCK_DGRAM);
  g_udp_b = bound(AF_INET, SOCK_DGRAM);
  socklen_t len = 0;
  sockaddr_storage a = loopback(AF_INET, port_of(g_udp_a), &len);
  connect(g_udp_b, reinterpret_cast<sockaddr*>(&a), len);

  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  if (probe >= 0) {
    close(probe);
    g_listener6 = bound(AF_INET6, SOCK_STREAM);
    listen(g_listener6, 2);
    g_tcp6 = connect_to(g_listener6, AF_INET6);
    (void)!write(g_tcp6.client, "over six", 8);
  }
}

// Reads exactly n bytes, waiting up to 10 s for each part.
std::string read_exactly(int fd, std::size_t n) {
  std::string out;
  std::vector<char> buf(65536);
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) break;
    ssize_t got = read(fd, buf.data(), std::min(buf.size(), n - out.size()));
    if (got <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(got));
  }
  return out;
}

void reset_on_close(const Connection& c) {
  const linger abort{1, 0};
  setsockopt(c.client, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  setsockopt(c.server, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
}

std::optional<std::string> check_tcp() {
  if (port_of(g_listener) != g_listener_port) return "the listener lost its port";
  if (read_exactly(g_tcp.server, 7) != "request") return "the server's queued request is lost";
  const std::string got = read_exactly(g_tcp.client, 8 + g_flood);
  if (got.size() != 8 + g_flood)
    return "the client read " + std::to_string(got.size()) + " of the " +
           std::to_string(8 + g_flood) + " bytes the server sent";
  if (got.substr(0, 8) != "response") return "the client's queue does not start with the response";
  for (std::size_t i = 0; i < g_flood; ++i) {
    if (got[8 + i] != pattern(i)) return "byte " + std::to_string(i) + " of the flood differs";
  }
  (void)!write(g_tcp.client, "more", 4);
  if (read_exactly(g_tcp.server, 4) != "more") return "the connection no longer carries bytes";
  int value = 0;
  socklen_t len = sizeof value;
  getsockopt(g_tcp.client, SOL_TCP, TCP_NODELAY, &value, &len);
  if (value == 0) return "the client lost TCP_NODELAY";
  getsockopt(g_tcp.server, SOL_SOCKET, SO_KEEPALIVE, &value, &len);
  if (value == 0) return "the server lost SO_KEEPALIVE";
  if (port_of(g_bound) != g_bound_port) return "the bound socket lost its port";
  Connection fresh = connect_to(g_listener, AF_INET);
  reset_on_close(fresh);
  const bool accepts = fresh.server >= 0;
  close(fresh.client);
  close(fresh.server);
  if (!accepts) return "the listener no longer accepts connections";
  return std::nullopt;
}

std::optional<std::string> check_udp() {
  (void)!send(g_udp_b, "datagram", 8, 0);
  char buf[16];
  pollfd p{g_udp_a, POLLIN, 0};
  ssize_t n = poll(&p, 1, 10000) == 1 ? recv(g_udp_a, buf, sizeof buf, 0) : -1;
  if (n != 8 || std::memcmp(buf, "datagram", 8) != 0)
    return "the connected UDP socket no longer reaches its peer";
  return std::nullopt;
}

std::optional<std::string> check_ipv6() {
  if (g_listener6 < 0) return std::nullopt;  // This kernel has no IPv6.
  int v6only = 0;
  socklen_t len = sizeof v6only;
  getsockopt(g_listener6, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len);
  if (v6only == 0) return "the IPv6 listener lost IPV6_V6ONLY";
  if (read_exactly(g_tcp6.server, 8) != "over six") return "the IPv6 connection lost its bytes";
  return std::nullopt;
}

std::optional<std::string> check() {
  auto r = check_tcp();
  if (!r) r = check_udp();
  if (!r) r = check_ipv6();
  reset_on_close(g_tcp);
  if (g_listener6 >= 0) reset_on_close(g_tcp6);
  return r;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
