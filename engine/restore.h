#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/host_port.h"
#include "common/tls.h"
#include "engine/cgroups.h"
#include "engine/lazy_pages.h"

namespace crossrig::engine {

/// What `ckpt restore` was asked to do.
struct RestoreOptions {
  std::string dir;
  bool detach = false;  ///< Return once the task runs instead of waiting for it to exit.
  std::string pidfile;  ///< Where to write the restored PID, if not empty.
  /// The task is a shell job: fds on its controlling terminal get ckpt's terminal (stdin's),
  /// and its process group becomes the foreground one again if it was.
  bool shell_job = false;
  /// Whether and how processes go back into their recorded cgroups (--manage-cgroups).
  CgroupMode cgroups = CgroupMode::kIgnore;
  /// Private anonymous memory is left for its first touch, which a server process forked
  /// by restore fills through userfaultfd, copying every other page meanwhile.
  bool lazy_pages = false;
  /// Called when every process is built and held (each dies if ckpt does), before any runs:
  /// an exception from it kills them and fails the restore.
  std::function<void()> before_running;
  /// Where the remote pages of a post-copy migration's final dump come from (with
  /// lazy_pages); an image that has such pages cannot be restored without.
  std::shared_ptr<RemotePages> remote_pages;
  /// The `ckpt dump --lazy-pages` holding the pages the image left in the frozen tree
  /// (with lazy_pages), instead of remote_pages; tls: the connection's certificates.
  std::optional<HostPort> page_server;
  TlsConfig tls;
  /// Called with the lazy-pages server's pid once it serves (detached restores: the caller
  /// waits for it).
  std::function<void(pid_t)> lazy_server_started;
  /// Run in order at pre-restore, before any process exists, at post-restore, when every
  /// process is built and held, and at post-resume, once they run (engine/action_scripts.h).
  /// One that fails at pre- or post-restore fails the restore; at post-resume it is reported.
  std::vector<std::string> action_scripts;
};

/// Throws kBadImage, naming both, unless an image with this inventory (of the image
/// directory dir) was dumped on this host's arch and page size.
void check_host_fits(const std::string& dir, const nlohmann::json& inventory);

/// What a restore made.
struct RestoreResult {
  pid_t pid = 0;   ///< The root process, a child of the caller.
  int status = 0;  ///< Without detach, its exit status (128+signal if killed); else 0.
};

/// Restores the image in opts.dir with its original PID. Unless detached, waits for the
/// restored process to exit. On failure kills whatever it created and throws CkptError
/// naming the failed object.
RestoreResult restore(const RestoreOptions& opts);

}  // namespace crossrig::engine
