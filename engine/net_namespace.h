#pragma once
// A tree started in a network namespace of its own, as `unshare --net` starts one: the
// namespace holds only the loopback device, up or down. ckpt reads and makes the tree's
// sockets from inside it (sock_diag lists only its own namespace's sockets, and an abstract
// unix name or a TCP port exists only there), so its main thread joins the namespace for the
// length of the dump or restore.

#include <sys/types.h>

#include "common/unique_fd.h"

namespace crossrig::engine {

/// Keeps the calling thread in the network namespace of process pid until destroyed, then
/// puts it back in its own.
class InNetNamespace {
 public:
  explicit InNetNamespace(pid_t pid);
  ~InNetNamespace();
  InNetNamespace(const InNetNamespace&) = delete;
  InNetNamespace& operator=(const InNetNamespace&) = delete;

 private:
  UniqueFd home_;
};

/// Whether the calling thread's network namespace has its loopback device up. Throws
/// kUnsupported naming process pid when the namespace holds what restore cannot make again:
/// a device other than lo, or an address other than lo's own 127.0.0.1/8 and ::1.
bool read_loopback_up(pid_t pid);

/// Brings the calling thread's loopback device up, which also gives it its addresses.
void bring_loopback_up();

}  // namespace crossrig::engine
