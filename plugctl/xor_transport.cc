#include "plugctl/xor_transport.h"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "plugctl/errors.h"
#include "plugctl/reply.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {

std::string XorTcpTransport::send(std::string_view request, const Deadline& deadline) {
  bool reused = static_cast<bool>(fd_);
  try {
    return exchange(request, deadline);
  } catch (const PlugError& e) {
    fd_.reset();
    // A kept connection the device has since closed fails before any reply byte: reconnect
    // once rather than report it.
    if (!reused || !e.retryable() || deadline.expired()) throw;
  }
  return exchange(request, deadline);
}

std::string XorTcpTransport::exchange(std::string_view request, const Deadline& deadline) {
  std::string where = target();
  try {
    if (!fd_) fd_ = connect_tcp(device_, deadline);
    write_all(fd_.get(), xor_frame(request), deadline);
    std::array<std::uint8_t, 4> prefix{};
    std::size_t got = 0;
    while (got < prefix.size()) {
      std::size_t n = read_some(fd_.get(), std::span(prefix).subspan(got), deadline);
      if (n == 0) {
        if (got == 0) throw NetError(NetError::kClosed, "no reply bytes");
        throw PlugError(PlugError::kBadReply, where + ": truncated reply: got " +
                                                  std::to_string(got) +
                                                  " bytes of the 4-byte length prefix");
      }
      got += n;
    }
    std::uint32_t length = check_xor_reply_length(prefix, where);
    std::vector<std::uint8_t> payload(length);
    std::size_t have = 0;
    while (have < length) {
      std::size_t n = read_some(fd_.get(), std::span(payload).subspan(have), deadline);
      if (n == 0) {
        throw PlugError(PlugError::kBadReply, where + ": truncated reply: got " +
                                                  std::to_string(have) + " of " +
                                                  std::to_string(length) + " bytes");
      }
      have += n;
    }
    return xor_decrypt(payload);
  } catch (const NetError& e) {
    fd_.reset();
    throw from_net_error(e, where);
  } catch (const PlugError&) {
    fd_.reset();
    throw;
  }
}

std::string XorUdpTransport::send(std::string_view request, const Deadline& deadline) {
  std::string where = target() + " (UDP)";
  try {
    auto addrs = resolve(device_, SOCK_DGRAM);
    const SocketAddress& addr = addrs.front();
    UniqueFd fd(socket(addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) throw NetError(NetError::kOther, std::string("socket: ") + std::strerror(errno));
    // A connected UDP socket only accepts datagrams from the device and reports ICMP refusals.
    if (connect(fd.get(), addr.get(), addr.length) != 0) {
      throw NetError(NetError::kUnreachable, "cannot reach " + where + ": " + std::strerror(errno));
    }
    auto datagram = xor_encrypt(request);
    if (::send(fd.get(), datagram.data(), datagram.size(), 0) < 0) {
      throw NetError(NetError::kUnreachable,
                     "cannot send to " + where + ": " + std::strerror(errno));
    }
    std::vector<std::uint8_t> buf(64 * 1024);
    for (;;) {
      wait_fd(fd.get(), POLLIN, deadline, "waiting for the UDP reply");
      ssize_t n = recv(fd.get(), buf.data(), buf.size(), 0);
      if (n >= 0) {
        buf.resize(static_cast<std::size_t>(n));
        return xor_decrypt(buf);
      }
      if (errno == ECONNREFUSED) {
        throw NetError(NetError::kUnreachable, where + " refused the datagram (nothing listens)");
      }
      if (errno != EAGAIN && errno != EINTR) {
        throw NetError(NetError::kOther, std::string("recv: ") + std::strerror(errno));
      }
    }
  } catch (const NetError& e) {
    throw from_net_error(e, where);
  }
}

}  // namespace crossrig::plugctl
