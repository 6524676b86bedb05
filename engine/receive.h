#pragma once
// `ckpt receive`: the destination of `ckpt migrate`. Over one mutually authenticated TLS
// connection it takes the migration's images (the pre-copy rounds, then the final dump),
// restores the tree from them, holds it until the source commits, and lets it run.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/host_port.h"
#include "common/tls.h"
#include "engine/tls_listener.h"

namespace crossrig::engine {

/// What `ckpt receive` was asked to do.
struct ReceiveOptions {
  HostPort listen;
  /// Where the images land (DIR/pre-1, ..., DIR/dump); created if missing.
  std::string dir;
  TlsConfig tls;
  /// How long the source may stay silent, or take for one message or the handshake.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  /// Where to write the restored tree's root PID.
  std::string pidfile;
};

/// How the migration ended.
struct ReceiveResult {
  bool migrated = false;
  pid_t pid = 0;        ///< The restored root, as this PID namespace names it.
  bool lazy = false;    ///< Restored with lazy pages, filled by a server process meanwhile.
  std::string peer;     ///< "ADDR:PORT" of the source
  std::string subject;  ///< Its certificate's subject.
  std::vector<std::string> images;  ///< Received, in order (removed again on failure).
  std::uint64_t bytes = 0;          ///< File bytes received.
  bool committed = false;           ///< The tree was let run here, the source told so.
  /// Post-copy (lazy): how long the tree ran here until its last page came from the source.
  double post_copy_seconds = 0;
  std::string error;  ///< Why it failed.
};

/// A listening destination. With a lazy migration the tree runs once committed, and its
/// pages come in the background, those written during the last round from the frozen source
/// (post-copy); the migration has succeeded once the last page has arrived.
class Receiver {
 public:
  /// Makes the directory, loads the TLS files and binds; throws CkptError (kUsage).
  explicit Receiver(ReceiveOptions opts);
  std::uint16_t port() const { return listener_->port(); }
  /// Serves until one authenticated client's migration ended (or an interrupt); clients
  /// dropped before that (refused certificates, not TLS) are told to refused and do not end
  /// it. A failed migration leaves neither its images nor any restored process.
  ReceiveResult run(
      const std::function<void(const std::string& peer, const std::string& why)>& refused);

 private:
  // Both return the lazy-pages server's pid (0 for an eager restore).
  pid_t serve(TlsStream& stream, ReceiveResult& r);
  pid_t restore_held(TlsStream& stream, const std::string& image, bool lazy, ReceiveResult& r);

  ReceiveOptions opts_;
  std::unique_ptr<TlsListener> listener_;
};

}  // namespace crossrig::engine
