#include "common/host_port.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>
#include <cstring>
#include <stdexcept>

#include "common/net_io.h"

namespace crossrig {

namespace {
std::uint16_t parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    throw std::invalid_argument("bad port in '" + std::string(whole) +
                                "': expected a number from 1 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}
}  // namespace

HostPort parse_host_port(std::string_view text, std::uint16_t default_port) {
  if (text.empty()) throw std::invalid_argument("empty host");
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close == 1) {
      throw std::invalid_argument("bad address '" + std::string(text) + "': unbalanced '['");
    }
    HostPort hp{std::string(text.substr(1, close - 1)), default_port};
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        throw std::invalid_argument("bad address '" + std::string(text) + "'");
      }
      hp.port = parse_port(rest.substr(1), text);
    }
    return hp;
  }
  auto colon = text.find(':');
  if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
    return {std::string(text), default_port};  // A name, IPv4, or a bare IPv6 literal.
  }
  if (colon == 0) throw std::invalid_argument("bad address '" + std::string(text) + "': no host");
  return {std::string(text.substr(0, colon)), parse_port(text.substr(colon + 1), text)};
}

std::string format_host_port(const HostPort& hp) {
  if (hp.host.find(':') != std::string::npos) {
    return "[" + hp.host + "]:" + std::to_string(hp.port);
  }
  return hp.host + ":" + std::to_string(hp.port);
}

std::string SocketAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    // Appending rather than `"[" + std::string(buf)` avoids GCC 12's false -Wrestrict at -O3.
    std::string text = "[";
    text += buf;
    text += "]:";
    text += std::to_string(ntohs(in6->sin6_port));
    return text;
  }
  return "?";
}

std::vector<SocketAddress> resolve(const HostPort& hp, int socktype) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  std::string port = std::to_string(hp.port);
  int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &list);
  if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY || rc == EAI_NODATA) {
    hints.ai_flags = 0;  // AI_ADDRCONFIG hides ::1 on hosts with only loopback IPv6.
    rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &list);
  }
  if (rc != 0) {
    throw NetError(NetError::kUnreachable, "cannot resolve '" + hp.host + "': " + gai_strerror(rc));
  }
  std::vector<SocketAddress> out;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    SocketAddress a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    out.push_back(a);
  }
  freeaddrinfo(list);
  return out;
}

}  // namespace crossrig
