#pragma once

#include <stdexcept>
#include <string>

#include "common/net_io.h"

namespace crossrig::plugctl {

/// A failure of a plug command, classified by what the caller does about it; the kind is also
/// the documented exit code of the plugctl command.
class PlugError : public std::runtime_error {
 public:
  enum Kind {
    kDevice = 1,       ///< The device answered err_code != 0: fix the request.
    kUsage = 2,        ///< The command line or request is wrong: fix the input.
    kUnreachable = 3,  ///< No connection or no answer in time: check the address, retry.
    kAuth = 4,         ///< The device refused our credentials: give the right ones.
    kBadReply = 5,     ///< The device answered something we cannot use: report it.
  };
  PlugError(Kind kind, const std::string& what, bool retryable = false)
      : std::runtime_error(what), kind_(kind), retryable_(retryable) {}
  Kind kind() const { return kind_; }
  /// True when sending the same request again may succeed (timeouts, resets).
  bool retryable() const { return retryable_; }
  /// The process exit code for this error.
  int exit_code() const { return static_cast<int>(kind_); }

 private:
  Kind kind_;
  bool retryable_;
};

/// The peer speaks another protocol than the one we tried (HTTP on the XOR port).
class WrongProtocol : public PlugError {
 public:
  explicit WrongProtocol(const std::string& what) : PlugError(kBadReply, what) {}
};

/// A PlugError for a network failure talking to target.
PlugError from_net_error(const NetError& e, const std::string& target);

}  // namespace crossrig::plugctl
