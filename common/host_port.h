#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crossrig {

/// A host name or address with a port, as given on a command line.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

/// Parses "host", "host:port", "[v6addr]:port" or a bare IPv6 address; a missing port is
/// default_port. Throws std::invalid_argument with a message naming the text.
HostPort parse_host_port(std::string_view text, std::uint16_t default_port);

/// "host:port", with brackets around IPv6 literals.
std::string format_host_port(const HostPort& hp);

/// One resolved socket address.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  /// "1.2.3.4:80" or "[::1]:80".
  std::string to_string() const;
};

/// Resolves host and port (numeric addresses without DNS); throws NetError (kUnreachable)
/// when the name does not resolve.
std::vector<SocketAddress> resolve(const HostPort& hp, int socktype);

}  // namespace crossrig
