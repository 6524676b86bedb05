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
  /// What went wrong on the wire, where a caller decides on it (auto transport fallback).
  enum class Cause { kOther, kTimeout, kRefused, kClosedEarly, kWrongProtocol };
  PlugError(Kind kind, const std::string& what, bool retryable = false, Cause cause = Cause::kOther)
      : std::runtime_error(what), kind_(kind), retryable_(retryable), cause_(cause) {}
  Kind kind() const { return kind_; }
  Cause cause() const { return cause_; }
  /// True when sending the same request again may succeed (timeouts, resets).
  bool retryable() const { return retryable_; }
  /// The process exit code for this error.
  int exit_code() const { return static_cast<int>(kind_); }

 private:
  Kind kind_;
  bool retryable_;
  Cause cause_;
};

/// A PlugError for a network failure talking to target.
PlugError from_net_error(const NetError& e, const std::string& target);

}  // namespace crossrig::plugctl
