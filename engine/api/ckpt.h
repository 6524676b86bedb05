/* libckpt for C programs: checkpoint and restore Linux processes as `ckpt` does. C99; link
 * with libckpt (CMake target libckpt). Every function runs in the calling thread, which is the
 * tracer of the processes while it works; it returns a ckpt_status, and on failure
 * ckpt_last_error() says what failed. */
#ifndef CROSSRIG_ENGINE_API_CKPT_H
#define CROSSRIG_ENGINE_API_CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How a call ended: the exit codes of `ckpt`, classified by what the caller must do.
enum ckpt_status {
  CKPT_OK = 0,
  CKPT_E_INTERNAL = 1,     ///< A bug in ckpt (an unexpected exception): report the message.
  CKPT_E_USAGE = 2,        ///< Bad options: fix the call.
  CKPT_E_UNSUPPORTED = 3,  ///< What ckpt cannot handle yet, or a missing kernel feature.
  CKPT_E_BAD_IMAGE = 4,    ///< Corrupt, truncated or foreign image: dump again.
  CKPT_E_SYSTEM = 5,       ///< A syscall, ptrace or the target failed: read the message, retry.
  CKPT_E_DENIED = 6        ///< ckpt service refused the caller: not its process or image.
};

/// What to checkpoint or restore, and how. A plain struct rather than an opaque handle with
/// a setter per field: no allocation to free and no setter that can fail. It must be filled
/// by ckpt_opts_init() first, which records the size this program was compiled with, so that
/// fields can be added at its end: the library gives fields beyond an older program's size
/// their defaults, and refuses a newer program's struct only if it set a field this library
/// does not know (the rule of the kernel's clone3 and openat2). Every default is zero. Each
/// function reads only the fields it names; strings are borrowed for the call.
struct ckpt_opts {
  size_t size;                  ///< Set by ckpt_opts_init(): sizeof(struct ckpt_opts) here.
  pid_t pid;                    ///< dump, pre-dump: the root of the process tree.
  const char* images_dir;       ///< all: the image directory (created by a dump; may exist empty).
  const char* prev_images_dir;  ///< dump, pre-dump: the pre-dump this image follows, or NULL.
  bool leave_running;           ///< dump: the processes run on instead of being killed.
  bool shell_job;               ///< dump, restore: a job of a shell (`ckpt dump --shell-job`).
  bool tcp_established;         ///< dump: established TCP connections go in the image.
  bool detach;                  ///< restore: return once the processes run, without waiting.
  /// dump, pre-dump, restore: paths of executables run in this order at each action, as
  /// `ckpt --action-script` runs them (engine/README.md); NULL-terminated, or NULL for none.
  const char* const* action_scripts;
};

/// Sets every option to its default. Inline so that the size recorded is this program's.
static inline void ckpt_opts_init(struct ckpt_opts* opts) {
  memset(opts, 0, sizeof *opts);
  opts->size = sizeof *opts;
}

/// Checkpoints the tree of opts->pid into opts->images_dir and kills it, or lets it run on
/// with leave_running. On failure the processes run on as before and no image is left.
enum ckpt_status ckpt_dump(const struct ckpt_opts* opts);

/// Copies the memory of the tree of opts->pid into opts->images_dir while it runs on, and
/// tracks the pages written from then on: a dump (or pre-dump) with prev_images_dir naming
/// this image then copies only those.
enum ckpt_status ckpt_pre_dump(const struct ckpt_opts* opts);

/// Restores the image in opts->images_dir, each process with its PID. The root becomes a
/// child of the calling process, which must reap it. With detach, returns once the processes
/// run; otherwise waits for the root to exit. *pid (if not NULL) gets the root's PID;
/// *exit_status (if not NULL) its exit status without detach (128 + the signal that killed
/// it), 0 with. On failure no process of the image is left.
enum ckpt_status ckpt_restore(const struct ckpt_opts* opts, pid_t* pid, int* exit_status);

/// One kernel feature ckpt relies on, as `ckpt check` reports it.
struct ckpt_finding {
  const char* feature;
  bool ok;                  ///< This system has it.
  bool required;            ///< Dump and restore cannot work without it.
  const char* detail;       ///< What was observed.
  const char* consequence;  ///< What ckpt does, or cannot do, as a result.
};

/// The findings of ckpt_check(), owned by the library until ckpt_findings_free().
struct ckpt_findings {
  size_t count;
  const struct ckpt_finding* items;
};

/// Probes this kernel and process. *findings gets every finding even when the status is
/// CKPT_E_UNSUPPORTED (a required feature is missing, named by ckpt_last_error()); it is
/// NULL after any other failure.
enum ckpt_status ckpt_check(struct ckpt_findings** findings);

/// Frees what ckpt_check() returned; NULL is ignored.
void ckpt_findings_free(struct ckpt_findings* findings);

/// Why this thread's last call failed, "" after a success. Valid until this thread's next
/// call into the library; other threads have their own.
const char* ckpt_last_error(void);

/// Asks the ckpt service listening on the unix socket service_address to checkpoint the
/// calling process (its tree) into opts->images_dir, an absolute path or one relative to the
/// current directory; opts->pid is ignored, leave_running, shell_job and tcp_established
/// apply. The call returns twice, so to speak: CKPT_OK with *restored false once the image is
/// written (if leave_running: without it the process is killed and the call never returns),
/// and CKPT_OK with *restored true in every process later restored from that image, whoever
/// restores it. The connection to the service is not part of the image. CKPT_E_DENIED when
/// the service refuses (an image directory the caller could not write).
enum ckpt_status ckpt_dump_self(const char* service_address, const struct ckpt_opts* opts,
                                bool* restored);

#ifdef __cplusplus
}
#endif

#endif
