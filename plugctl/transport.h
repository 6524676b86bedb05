#pragma once

#include <string>
#include <string_view>

#include "common/net_io.h"

namespace crossrig::plugctl {

/// One way of carrying a JSON request to a plug and its JSON answer back (XOR over TCP or UDP,
/// KLAP over HTTP). Errors are PlugError.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Sends one request and returns the reply text, before the deadline.
  virtual std::string send(std::string_view request, const Deadline& deadline) = 0;
  /// Drops any connection or session, so the next send starts afresh (after a failure).
  virtual void reset() = 0;
  /// "xor", "udp" or "klap".
  virtual std::string name() const = 0;
  /// "host:port" of the device, for messages.
  virtual std::string target() const = 0;
};

}  // namespace crossrig::plugctl
