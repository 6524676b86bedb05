#pragma once

#include <stdexcept>
#include <string>

namespace crossrig::engine {

/// A checkpoint/restore failure, classified by what the user must do about it.
class CkptError : public std::runtime_error {
 public:
  enum Kind {
    kUsage = 2,        ///< Bad command line or options: fix the invocation.
    kUnsupported = 3,  ///< The task holds something the engine cannot handle yet.
    kBadImage = 4,     ///< Corrupt, truncated or foreign image: dump again.
    kSystem = 5,       ///< A syscall, ptrace or the target failed: read the message, retry.
    kDenied = 6,       ///< ckpt service refused the caller: not its process or image.
  };
  CkptError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }
  /// The process exit code for this error (documented in engine/README.md).
  int exit_code() const { return static_cast<int>(kind_); }

 private:
  Kind kind_;
};

/// Throws kSystem with "what: strerror(errno)".
[[noreturn]] void throw_errno(const std::string& what);

}  // namespace crossrig::engine
