#include "engine/task_fd.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "engine/ckpt_error.h"

namespace crossrig::engine {

UniqueFd copy_task_fd(pid_t pid, int fd) {
  const std::string what = "fd " + std::to_string(fd) + " of process " + std::to_string(pid);
  // Raw calls: glibc 2.36's <sys/pidfd.h> declares them without C linkage for C++.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  UniqueFd got(pidfd ? static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)) : -1);
  if (!got && errno == ENOSYS)
    throw CkptError(CkptError::kUnsupported,
                    "this kernel has no pidfd_getfd (Linux 5.6), which ckpt needs to read the "
                    "state of " +
                        what + "; run a newer kernel");
  if (!got) throw_errno("taking a copy of " + what);
  return got;
}

}  // namespace crossrig::engine
