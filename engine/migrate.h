#pragma once
// `ckpt migrate`: moves a running process tree to `ckpt receive` on another host. Pre-copy
// rounds (pre-dumps) send memory while the tree runs, until little changes between rounds;
// then the tree is frozen, the final dump sends what changed, the destination restores it
// and holds it, and the two sides commit: the destination lets its copy run, the source
// kills its own. Until the commit, any failure lets the tree run on here as before.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/host_port.h"
#include "common/tls.h"
#include "engine/dirty_pages.h"

namespace crossrig::engine {

/// What `ckpt migrate` was asked to do.
struct MigrateOptions {
  pid_t pid = 0;
  HostPort to;
  TlsConfig tls;
  /// At most this many pre-copy rounds; 0 freezes at once (stop-and-copy).
  unsigned iterations = 10;
  /// Pre-copy ends once a round found fewer than this percentage of the pages written.
  double goal_percent = 5;
  /// Post-copy: the destination lets the tree run before its memory is in (restore
  /// --lazy-pages), fetching the pages written since the last round from the frozen tree
  /// here, which is killed once it has them all and runs on if the link is lost before.
  bool lazy = false;
  /// Where the rounds' metadata stays on this host; a temporary directory when empty.
  std::string work_dir;
  std::optional<Tracking> track;
};

/// One pre-copy round.
struct MigrateRound {
  std::uint64_t bytes = 0;     ///< Page bytes sent.
  double dirty_percent = 100;  ///< Of the present pages, those sent.
  double seconds = 0;
};

/// What a migration did.
struct MigrateResult {
  std::vector<MigrateRound> rounds;
  std::uint64_t final_bytes = 0;      ///< Page bytes the frozen tree's dump sent.
  std::uint64_t remote_bytes = 0;     ///< Page bytes it left for post-copy (lazy).
  std::uint64_t post_copy_bytes = 0;  ///< Page bytes the destination fetched of those.
  double downtime_ms = 0;             ///< From the freeze until the destination runs the tree.
  double post_copy_ms = 0;            ///< From then until the destination had every page.
  double total_ms = 0;
  Tracking tracking = Tracking::kHash;
};

/// Migrates the tree of opts.pid; progress gets a line of text at each step. Throws
/// CkptError when the migration failed, the tree then running here as before.
MigrateResult migrate(const MigrateOptions& opts,
                      const std::function<void(const std::string&)>& progress);

}  // namespace crossrig::engine
