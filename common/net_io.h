#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "common/host_port.h"
#include "common/unique_fd.h"

namespace crossrig {

/// A network failure, classified by what the caller can do about it.
class NetError : public std::runtime_error {
 public:
  enum Kind {
    kTimeout,      ///< The peer did not answer in time: retry or give up.
    kUnreachable,  ///< No route, refused or unresolvable: check the address.
    kClosed,       ///< The peer closed the connection early.
    kAuth,         ///< TLS refused a certificate, ours or the peer's: fix the certificates.
    kOther,        ///< Any other system error.
  };
  NetError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

/// A point in time after which I/O gives up.
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Deadline(std::chrono::milliseconds budget) : at_(Clock::now() + budget) {}
  /// Milliseconds left, at least 0, rounded up so poll() never spins.
  int remaining_ms() const;
  bool expired() const { return Clock::now() >= at_; }

 private:
  Clock::time_point at_;
};

/// Opens a TCP connection to one of the addresses of hp before the deadline.
UniqueFd connect_tcp(const HostPort& hp, const Deadline& deadline);

/// Waits until fd is readable (events=POLLIN) or writable (POLLOUT); throws kTimeout.
void wait_fd(int fd, short events, const Deadline& deadline, const std::string& what);

/// Writes all bytes (non-blocking fd) before the deadline.
void write_all(int fd, std::span<const std::uint8_t> bytes, const Deadline& deadline);

/// Reads exactly buf.size() bytes; throws kClosed if the peer closes first.
void read_exact(int fd, std::span<std::uint8_t> buf, const Deadline& deadline);

/// Reads what is available (at least one byte); returns 0 when the peer closed.
std::size_t read_some(int fd, std::span<std::uint8_t> buf, const Deadline& deadline);

/// Sets O_NONBLOCK on fd.
void set_nonblocking(int fd);

}  // namespace crossrig
