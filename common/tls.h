#pragma once
// Mutually authenticated TLS 1.3 over a connected TCP socket (OpenSSL's libssl). Both ends
// present a certificate that the other verifies against the same CA: the CA is the trust
// boundary, so any holder of a certificate it signed is accepted (host names are not checked,
// as in CRIU's page server). A peer without a valid certificate is refused.

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "common/net_io.h"
#include "common/unique_fd.h"

// OpenSSL's opaque types, so that users of this header do not include OpenSSL's.
struct ssl_ctx_st;
struct ssl_st;

namespace crossrig {

/// Where the CA certificate, our certificate and our private key are (PEM files). The
/// defaults are the paths ckpt uses when --tls-cacert, --tls-cert or --tls-key are absent.
struct TlsConfig {
  std::string cacert = "/etc/crossrig/pki/cacert.pem";
  std::string cert = "/etc/crossrig/pki/cert.pem";
  std::string key = "/etc/crossrig/pki/private/key.pem";
};

/// A TLS file that cannot be used (missing, unreadable, not PEM, key not matching the
/// certificate): the user must fix the option naming it.
class TlsConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The settings every connection of one side shares: TLS 1.3 only, our certificate and
/// key, and the CA that peers' certificates must chain to.
class TlsContext {
 public:
  enum class Role { kClient, kServer };
  /// Loads and checks the files; throws TlsConfigError naming the file at fault.
  TlsContext(Role role, const TlsConfig& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  Role role() const { return role_; }
  ssl_ctx_st* get() const { return ctx_; }

 private:
  Role role_;
  ssl_ctx_st* ctx_ = nullptr;
};

/// One TLS connection over a TCP socket, made non-blocking so that every call can give up
/// at a deadline: a slow or silent peer times out (NetError::kTimeout) instead of hanging.
/// Failures are NetErrors carrying OpenSSL's reason; a refused certificate is kAuth.
class TlsStream {
 public:
  /// Runs the handshake over fd as ctx's role before the deadline. peer names the other end
  /// in messages ("10.0.0.2:7000").
  TlsStream(const TlsContext& ctx, UniqueFd fd, std::string peer, const Deadline& deadline);
  ~TlsStream();
  TlsStream(TlsStream&& other) noexcept;
  TlsStream& operator=(TlsStream&&) = delete;
  TlsStream(const TlsStream&) = delete;

  /// Sends all bytes.
  void write_all(std::span<const std::uint8_t> bytes, const Deadline& deadline);
  /// Reads exactly buf.size() bytes; throws kClosed if the peer closes first.
  void read_exact(std::span<std::uint8_t> buf, const Deadline& deadline);
  /// Reads what is available (at least one byte); 0 when the peer closed the connection.
  std::size_t read_some(std::span<std::uint8_t> buf, const Deadline& deadline);
  /// Tells the peer we are done (TLS close_notify), so that it can tell a clean end from a
  /// cut connection.
  void close_notify(const Deadline& deadline);
  /// The subject of the peer's verified certificate ("CN=host1").
  std::string peer_subject() const;
  /// The socket, for a process that must keep it open.
  int fd() const { return fd_.get(); }

 private:
  // Runs one SSL call until it completes, waiting on the socket while it wants to read or
  // write; returns its result, or 0 for a clean close when allow_eof.
  template <typename Op>
  int drive(Op op, const Deadline& deadline, const char* doing, bool allow_eof);

  UniqueFd fd_;
  ssl_st* ssl_ = nullptr;
  std::string peer_;
};

}  // namespace crossrig
