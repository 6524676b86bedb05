#pragma once
// A tracee that makes itself the init of new namespaces, as `unshare --pid --fork` does: the
// process the driver launched unshares, forks the init and leaves once the init releases it,
// by which time the init's pidfile is written; the driver then dumps the init.

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {

/// Returns in the init of new namespaces (unshare flags, CLONE_NEWPID among them) with the fd
/// whose closing lets the launcher leave.
inline int become_namespace_init(int flags) {
  int release[2];
  (void)!pipe(release);
  unshare(flags);
  if (fork() != 0) {
    close(release[1]);
    char c;
    while (read(release[0], &c, 1) > 0) {
    }
    _exit(0);
  }
  close(release[0]);
  return release[1];
}

}  // namespace crossrig::tracee
