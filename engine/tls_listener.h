#pragma once
// The listening side that ckpt's servers share (page-server, receive): the socket, the
// certificates, and dropping a client so that it learns why.

#include <cstdint>
#include <optional>
#include <string>

#include "common/host_port.h"
#include "common/tls.h"
#include "common/unique_fd.h"

namespace crossrig::engine {

/// A TCP connection accepted, before its TLS handshake.
struct Accepted {
  UniqueFd fd;
  std::string peer;  ///< "ADDR:PORT"
};

/// A bound and listening socket with the server's TLS context.
class TlsListener {
 public:
  /// Loads the TLS files and binds; throws CkptError (kUsage for bad files or an address in
  /// use). option names the command-line option of the address, for errors.
  TlsListener(const HostPort& listen, const TlsConfig& tls, const std::string& option);
  /// The port bound (the one asked for, or the kernel's pick for port 0).
  std::uint16_t port() const { return port_; }
  const TlsContext& context() const { return *tls_; }
  /// The next connection, or nullopt when none came within wait_ms.
  std::optional<Accepted> accept(int wait_ms);

 private:
  std::unique_ptr<TlsContext> tls_;
  UniqueFd listener_;
  std::uint16_t port_ = 0;
};

/// Ends a client's connection after a failure: over an established TLS session (stream) it
/// sends an ERROR message saying why and reads on a little, so that what the client still
/// sends does not turn the close into a reset that loses the explanation; without one it
/// drains the raw socket kept_fd, so that the TLS alert of a failed handshake arrives.
void drop_client(std::optional<TlsStream>& stream, int kept_fd, const std::string& why);

}  // namespace crossrig::engine
