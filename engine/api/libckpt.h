#pragma once
// libckpt for C++ programs: the operations of `ckpt` as calls, on which ckpt.h is a thin C
// layer. Failures throw Error, whose kind() says what the caller must do.

#include <sys/types.h>

#include <string>
#include <vector>

#include "engine/check.h"
#include "engine/ckpt_error.h"

namespace crossrig::ckpt {

/// A failure, classified as `ckpt`'s exit codes are (Error::kUsage, kUnsupported, kBadImage,
/// kSystem); what() says what failed, on which object, and what to do.
using Error = engine::CkptError;

/// One kernel feature ckpt relies on, as `ckpt check` reports it.
using Finding = engine::Finding;

/// What to checkpoint or restore, and how; each operation reads only the fields it names.
struct Options {
  pid_t pid = 0;                 ///< dump, pre_dump: the root of the process tree.
  std::string images_dir;        ///< all: the image directory.
  std::string prev_images_dir;   ///< dump, pre_dump: the pre-dump this image follows.
  bool leave_running = false;    ///< dump: the processes run on instead of being killed.
  bool shell_job = false;        ///< dump, restore: a job of a shell (`ckpt dump --shell-job`).
  bool tcp_established = false;  ///< dump: established TCP connections go in the image.
  bool detach = false;           ///< restore: return once the processes run.
  /// dump, pre_dump, restore: run in this order at each action, as `ckpt --action-script`
  /// runs them; one that fails fails the operation (but at post-resume).
  std::vector<std::string> action_scripts;
};

/// What restore() made.
struct Restored {
  pid_t pid = 0;        ///< The root process, a child of the caller, which must reap it.
  int exit_status = 0;  ///< Without detach, the root's exit status (128 + signal); else 0.
};

/// What check() found.
struct CheckResult {
  std::vector<Finding> findings;
  bool usable = false;  ///< Every feature dump and restore require is present.
};

/// Checkpoints the tree of opts.pid into opts.images_dir and kills it, or lets it run on
/// with leave_running. On failure the processes run on as before and no image is left.
void dump(const Options& opts);

/// Copies the memory of the tree of opts.pid while it runs on and tracks the pages it
/// writes from then on, for a dump with prev_images_dir naming this image.
void pre_dump(const Options& opts);

/// Restores the image in opts.images_dir with its PIDs; unless detached, waits for the root
/// to exit. On failure no process of the image is left.
Restored restore(const Options& opts);

/// Probes this kernel and process, as `ckpt check` does.
CheckResult check();

/// What dump_self() returns: in the process that asked, or in a copy restored from the image.
enum class SelfDump { kDumped, kRestored };

/// Asks the ckpt service at service_address (a unix socket's path) to checkpoint this
/// process's tree into opts.images_dir (made absolute here; opts.pid is ignored). Returns
/// kDumped in this process once the image is written (with leave_running; without, the
/// process is killed), and kRestored in every process restored from that image. Throws Error
/// with the service's kind and message, or kSystem when the service cannot be reached.
SelfDump dump_self(const std::string& service_address, const Options& opts);

}  // namespace crossrig::ckpt
