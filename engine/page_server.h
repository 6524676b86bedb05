#pragma once
// `ckpt page-server`: receives images that `ckpt dump --page-server` sends, each into
// DIR/NAME, over mutually authenticated TLS. Each connection has its own thread and
// deadlines: a malformed, truncated, oversized, silent or unauthenticated client loses its
// connection and its partial image while the others are served on.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/host_port.h"
#include "common/tls.h"
#include "common/unique_fd.h"
#include "engine/tls_listener.h"

namespace crossrig::engine {

/// What `ckpt page-server` was asked to do.
struct PageServerOptions {
  HostPort listen;
  std::string dir;
  TlsConfig tls;
  /// Return after the first image committed.
  bool once = false;
  /// Connections served at once; more are closed as they come.
  std::size_t max_clients = 16;
  /// How long a client may take for the TLS handshake and for each message once it started
  /// it, and may stay silent between messages.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

/// How one connection ended.
struct TransferReport {
  std::string peer;     ///< "ADDR:PORT"
  std::string subject;  ///< Its certificate's subject, once verified.
  bool committed = false;
  std::string path;   ///< Where the image landed (committed) or would have.
  std::string error;  ///< Why the connection was dropped (not committed).
  std::size_t files = 0;
  std::uint64_t bytes = 0;
};

/// A listening page server.
class PageServer {
 public:
  /// Loads the TLS files and binds; throws CkptError (kUsage for bad options or an address
  /// in use).
  explicit PageServer(PageServerOptions opts);
  ~PageServer();
  /// The port bound (the one asked for, or the kernel's pick for port 0).
  std::uint16_t port() const { return listener_->port(); }
  /// Serves until stop() or an interrupt (or the first image, with once); calls report,
  /// from the connection's thread, for every connection that ends. Returns the number of
  /// images committed.
  std::size_t run(const std::function<void(const TransferReport&)>& report);
  /// Makes run() return once the connections being served end.
  void stop() { stop_ = true; }

 private:
  TransferReport serve(UniqueFd fd, std::string peer) const;
  PageServerOptions opts_;
  std::unique_ptr<TlsListener> listener_;
  std::atomic<bool> stop_{false};
};

}  // namespace crossrig::engine
