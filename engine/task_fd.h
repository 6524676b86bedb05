#pragma once
// ckpt's own descriptor on the open file description behind a held task's fd, for objects
// that cannot be reopened through /proc/PID/fd (anonymous inodes, sockets).

#include <sys/types.h>

#include "common/unique_fd.h"

namespace crossrig::engine {

/// A copy of fd of process pid (pidfd_getfd); throws kUnsupported on kernels without it and
/// kSystem when the copy fails.
UniqueFd copy_task_fd(pid_t pid, int fd);

}  // namespace crossrig::engine
