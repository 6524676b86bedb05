#include "common/net_io.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace crossrig {

int Deadline::remaining_ms() const {
  auto left = at_ - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw NetError(NetError::kOther, std::string("fcntl(O_NONBLOCK): ") + std::strerror(errno));
  }
}

void wait_fd(int fd, short events, const Deadline& deadline, const std::string& what) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, deadline.remaining_ms());
    if (rc > 0) return;  // Errors and hangups surface from the following read or write.
    if (rc == 0) throw NetError(NetError::kTimeout, "timed out " + what);
    if (errno != EINTR) {
      throw NetError(NetError::kOther, "poll while " + what + ": " + std::strerror(errno));
    }
  }
}

namespace {
NetError::Kind classify_connect_errno(int err) {
  switch (err) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EADDRNOTAVAIL:
      return NetError::kUnreachable;
    case ETIMEDOUT:
      return NetError::kTimeout;
    default:
      return NetError::kOther;
  }
}
}  // namespace

UniqueFd connect_tcp(const HostPort& hp, const Deadline& deadline) {
  std::string target = format_host_port(hp);
  NetError last(NetError::kUnreachable, "no address for " + target);
  for (const SocketAddress& addr : resolve(hp, SOCK_STREAM)) {
    UniqueFd fd(socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) throw NetError(NetError::kOther, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd.get(), addr.get(), addr.length) == 0) return fd;
    if (errno != EINPROGRESS) {
      int err = errno;
      last = NetError(classify_connect_errno(err),
                      "cannot connect to " + target + ": " + std::strerror(err));
      continue;
    }
    wait_fd(fd.get(), POLLOUT, deadline, "connecting to " + target);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return fd;
    last = NetError(classify_connect_errno(err),
                    "cannot connect to " + target + ": " + std::strerror(err));
  }
  throw last;
}

void write_all(int fd, std::span<const std::uint8_t> bytes, const Deadline& deadline) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      wait_fd(fd, POLLOUT, deadline, "sending");
    } else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      throw NetError(NetError::kClosed, "peer closed the connection while we were sending");
    } else {
      throw NetError(NetError::kOther, std::string("send: ") + std::strerror(errno));
    }
  }
}

std::size_t read_some(int fd, std::span<std::uint8_t> buf, const Deadline& deadline) {
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EAGAIN || errno == EINTR) {
      wait_fd(fd, POLLIN, deadline, "waiting for the reply");
    } else if (errno == ECONNRESET) {
      return 0;
    } else {
      throw NetError(NetError::kOther, std::string("recv: ") + std::strerror(errno));
    }
  }
}

void read_exact(int fd, std::span<std::uint8_t> buf, const Deadline& deadline) {
  std::size_t total = buf.size();
  while (!buf.empty()) {
    std::size_t n = read_some(fd, buf, deadline);
    if (n == 0) {
      throw NetError(NetError::kClosed, "peer closed the connection after " +
                                            std::to_string(total - buf.size()) + " of " +
                                            std::to_string(total) + " bytes");
    }
    buf = buf.subspan(n);
  }
}

}  // namespace crossrig
