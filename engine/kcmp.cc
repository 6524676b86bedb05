#include "engine/kcmp.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "engine/ckpt_error.h"

namespace crossrig::engine {

bool same_open_file(pid_t a, int fd_a, pid_t b, int fd_b) {
  long r = ::syscall(SYS_kcmp, a, b, KCMP_FILE, fd_a, fd_b);
  if (r == 0) return true;
  if (r > 0) return false;
  if (errno == ENOSYS)
    throw CkptError(CkptError::kUnsupported,
                    "this kernel has no kcmp (CONFIG_KCMP), without which ckpt cannot tell "
                    "which descriptors share a file; run a kernel built with "
                    "CONFIG_CHECKPOINT_RESTORE");
  throw_errno("comparing fd " + std::to_string(fd_a) + " of process " + std::to_string(a) +
              " with fd " + std::to_string(fd_b) + " of process " + std::to_string(b));
}

}  // namespace crossrig::engine
