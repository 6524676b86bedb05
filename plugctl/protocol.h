#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/net_io.h"
#include "plugctl/transport.h"

namespace crossrig::plugctl {

/// Sends JSON requests over a transport within one command's time budget, retrying what is
/// worth retrying (timeouts, resets) and checking every reply's err_code.
class Protocol {
 public:
  /// timeout bounds every query together; each attempt gets an equal share of it.
  Protocol(std::unique_ptr<Transport> transport, std::chrono::milliseconds timeout, int retries);

  /// The device's answer to request, checked (PlugError kDevice/kBadReply otherwise).
  nlohmann::json query(const nlohmann::json& request);

  Transport& transport() { return *transport_; }

 private:
  std::unique_ptr<Transport> transport_;
  Deadline overall_;
  std::chrono::milliseconds per_attempt_;
  int retries_;
};

}  // namespace crossrig::plugctl
