#pragma once

#include <sys/types.h>

namespace crossrig::test_support {

/// A child process alone in new namespaces (unshare flags, e.g. CLONE_NEWIPC), which live as
/// long as it does; killed and reaped on destruction.
class NamespacedProcess {
 public:
  /// Throws std::runtime_error when the child cannot unshare.
  explicit NamespacedProcess(int unshare_flags);
  ~NamespacedProcess();
  NamespacedProcess(const NamespacedProcess&) = delete;
  NamespacedProcess& operator=(const NamespacedProcess&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace crossrig::test_support
