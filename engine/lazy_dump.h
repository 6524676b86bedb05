#pragma once
// `ckpt dump --lazy-pages`: post-copy without a migration. The dump leaves the tree's private
// memory in the frozen tree and serves it to the `ckpt restore --lazy-pages --page-server`
// that restores the image elsewhere; the tree here dies once every page is there, and runs on
// if the destination is lost before.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/host_port.h"
#include "common/tls.h"
#include "engine/dump.h"

namespace crossrig::engine {

struct LazyDumpOptions {
  /// The dump; leave_remote and decide are set by dump_lazy.
  DumpOptions dump;
  /// Where the destination connects; port 0 lets the kernel pick one.
  HostPort listen;
  TlsConfig tls;
  /// How long the frozen tree waits for the destination; zero waits until interrupted.
  std::chrono::seconds wait{0};
};

struct LazyDumpResult {
  DumpResult dump;
  std::string peer;                ///< The destination, "ADDR:PORT".
  std::uint64_t served_bytes = 0;  ///< Page bytes the destination fetched.
  double serve_seconds = 0;        ///< From its connection to its last page.
};

/// Callbacks for what a user watches: the port once bound (before the tree is touched), the
/// image committed (the tree frozen, waiting: time to copy the image to the destination), a
/// line at each step, and each client refused (peer, why) while the tree waits.
struct LazyDumpEvents {
  std::function<void(std::uint16_t port)> listening;
  std::function<void(const DumpResult&)> waiting;
  std::function<void(const std::string&)> progress;
  std::function<void(const std::string& peer, const std::string& why)> refused;
};

/// Dumps opts.dump.pid's tree into opts.dump.dir leaving its pages remote, waits for the
/// destination and serves it. Throws CkptError as dump() does, and when the destination is
/// lost before it has every page, or the wait ends first: the tree then runs on here.
LazyDumpResult dump_lazy(LazyDumpOptions opts, const LazyDumpEvents& events);

}  // namespace crossrig::engine
