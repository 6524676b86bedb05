#include "plugctl/protocol.h"

#include <algorithm>

#include "plugctl/errors.h"
#include "plugctl/reply.h"

namespace crossrig::plugctl {

Protocol::Protocol(std::unique_ptr<Transport> transport, std::chrono::milliseconds timeout,
                   int retries)
    : transport_(std::move(transport)),
      overall_(timeout),
      per_attempt_(timeout / (std::max(retries, 0) + 1)),
      retries_(std::max(retries, 0)) {}

nlohmann::json Protocol::query(const nlohmann::json& request) {
  std::string text = request.dump();
  for (int attempt = 0;; ++attempt) {
    Deadline deadline(std::min(per_attempt_, std::chrono::milliseconds(overall_.remaining_ms())));
    try {
      nlohmann::json reply =
          parse_json_reply(transport_->send(text, deadline), transport_->target());
      check_reply(request, reply, transport_->target());
      return reply;
    } catch (const PlugError& e) {
      if (!e.retryable() || attempt >= retries_ || overall_.expired()) throw;
      transport_->reset();
    }
  }
}

}  // namespace crossrig::plugctl
