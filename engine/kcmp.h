#pragma once
// Whether two descriptors, possibly of different processes, point at the same open file
// description: what dup, fork and SCM_RIGHTS share, and what only the kernel can tell.

#include <sys/types.h>

namespace crossrig::engine {

/// True when fd_a of process a and fd_b of process b share one open file description;
/// throws kUnsupported when the kernel has no kcmp (CONFIG_KCMP) and kSystem on other errors.
bool same_open_file(pid_t a, int fd_a, pid_t b, int fd_b);

}  // namespace crossrig::engine
