#pragma once
// Action scripts (CRIU's --action-script): programs a lab or a job runtime gives ckpt to run at
// fixed points of a dump or restore, to quiesce what the processes talk to around a checkpoint.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"

namespace crossrig::engine {

/// A point of a dump or restore at which the action scripts run.
enum class ScriptAction { kPreDump, kPostDump, kPreRestore, kPostRestore, kPostResume };

/// The name a script finds in CKPT_SCRIPT_ACTION: "pre-dump", "post-dump", "pre-restore",
/// "post-restore" or "post-resume".
std::string_view action_name(ScriptAction action);

/// The environment of one script: `inherited` (NAME=VALUE entries) without any
/// CKPT_SCRIPT_ACTION, CKPT_INIT_PID or CKPT_IMAGE_DIR of its own, then those three.
std::vector<std::string> script_environment(const std::vector<std::string>& inherited,
                                            ScriptAction action, pid_t pid,
                                            const std::string& image_dir);

/// How a child ended, from its wait status, as a message says it: "exited with status 3",
/// "was killed by signal 9 (Killed)".
std::string describe_wait_status(int status);

/// The scripts of one dump or restore, run in the order given at each ScriptAction.
class ActionScripts {
 public:
  /// Remembers the calling thread's network namespace: ckpt joins the tree's for a dump or
  /// restore, and scripts run in ckpt's own. Nothing is opened without scripts.
  explicit ActionScripts(std::vector<std::string> paths);

  /// Runs each script, executed directly (a #! line, or a binary), with stdin from /dev/null,
  /// ckpt's stdout and stderr, no other descriptor, and ckpt's environment plus
  /// CKPT_SCRIPT_ACTION, CKPT_INIT_PID (pid) and CKPT_IMAGE_DIR (image_dir made absolute);
  /// each is waited for before the next starts. A script that cannot be started, exits
  /// non-zero or is killed throws CkptError (kSystem) naming it, the action and how it ended,
  /// and the scripts after it do not run; at kPostResume, when the processes already run, it is
  /// only reported on stderr and the rest still run.
  void run(ScriptAction action, pid_t pid, const std::string& image_dir) const;
  /// Whether there is none to run.
  bool empty() const { return paths_.empty(); }

 private:
  std::vector<std::string> paths_;
  UniqueFd home_net_;
};

}  // namespace crossrig::engine
