#include "engine/tls_listener.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/hex.h"
#include "engine/ckpt_error.h"
#include "engine/image_transfer.h"

namespace crossrig::engine {

namespace {

std::string peer_name(const sockaddr_storage& ss, socklen_t len) {
  SocketAddress a;
  a.storage = ss;
  a.length = len;
  return a.to_string();
}

void drain(int fd, const Deadline& deadline) {
  ::shutdown(fd, SHUT_WR);
  std::array<char, 4096> sink;
  while (!deadline.expired()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, deadline.remaining_ms()) <= 0) return;
    if (::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT) <= 0) return;
  }
}

}  // namespace

TlsListener::TlsListener(const HostPort& listen, const TlsConfig& tls, const std::string& option) {
  try {
    tls_ = std::make_unique<TlsContext>(TlsContext::Role::kServer, tls);
  } catch (const TlsConfigError& e) {
    throw CkptError(CkptError::kUsage, e.what());
  }
  const std::string where = format_host_port(listen);
  std::vector<SocketAddress> addrs;
  try {
    addrs = resolve(listen, SOCK_STREAM);
  } catch (const NetError& e) {
    throw CkptError(CkptError::kUsage, option + " " + where + ": " + e.what());
  }
  if (addrs.empty()) throw CkptError(CkptError::kUsage, option + " " + where + ": no address");
  SocketAddress& a = addrs.front();
  listener_ = UniqueFd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_) throw_errno("socket");
  const int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener_.get(), a.get(), a.length) != 0 || ::listen(listener_.get(), 64) != 0)
    throw CkptError(CkptError::kUsage, "cannot listen on " + where + ": " + std::strerror(errno) +
                                           " (another server there? choose another " + option +
                                           ")");
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

std::optional<Accepted> TlsListener::accept(int wait_ms) {
  pollfd p{listener_.get(), POLLIN, 0};
  if (::poll(&p, 1, wait_ms) <= 0) return std::nullopt;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  UniqueFd fd(::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC));
  if (!fd) return std::nullopt;
  return Accepted{std::move(fd), peer_name(ss, len)};
}

void drop_client(std::optional<TlsStream>& stream, int kept_fd, const std::string& why) {
  if (!stream) {
    if (kept_fd >= 0) drain(kept_fd, Deadline(std::chrono::seconds(2)));
    return;
  }
  try {
    const std::string text = nlohmann::json{{"error", why}}.dump();
    stream->write_all(encode_message(MessageType::kError, as_bytes(text)),
                      Deadline(std::chrono::seconds(2)));
    stream->close_notify(Deadline(std::chrono::seconds(1)));
    std::vector<std::uint8_t> sink(1 << 16);
    const Deadline until(std::chrono::seconds(2));
    while (stream->read_some(sink, until) > 0) {
    }
  } catch (const std::exception&) {
  }
}

}  // namespace crossrig::engine
