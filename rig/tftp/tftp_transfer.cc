#include "rig/tftp/tftp_transfer.h"

#include <algorithm>
#include <variant>

namespace crossrig::rig::tftp {

ReadTransfer::ReadTransfer(TransferConfig config, Clock::time_point now)
    : config_(std::move(config)),
      blocks_(config_.size / config_.params.blksize + 1),
      oack_pending_(!config_.params.oack.empty()),
      last_send_(now),
      timeout_(config_.params.timeout) {}

std::uint64_t ReadTransfer::block_offset(std::uint64_t index) const {
  return (index - 1) * config_.params.blksize;
}

std::size_t ReadTransfer::block_length(std::uint64_t index) const {
  std::uint64_t offset = block_offset(index);
  return static_cast<std::size_t>(
      std::min<std::uint64_t>(config_.params.blksize, config_.size - offset));
}

Send ReadTransfer::start(Clock::time_point now) {
  last_send_ = now;
  if (oack_pending_) return Send{encode(Oack{config_.params.oack}), 0, 0};
  return window(now);
}

Send ReadTransfer::window(Clock::time_point now) {
  last_send_ = now;
  std::uint64_t first = acked_ + 1;
  std::uint64_t last = std::min(acked_ + config_.params.windowsize, blocks_);
  sent_ = std::max(sent_, last);
  return Send{{}, first, last - first + 1};
}

void ReadTransfer::fail(std::string why) {
  status_ = Status::kFailed;
  failure_ = std::move(why);
}

Send ReadTransfer::on_packet(std::span<const std::uint8_t> bytes, Clock::time_point now) {
  if (status_ != Status::kRunning) return {};
  auto decoded = decode(bytes);
  const auto* packet = std::get_if<Packet>(&decoded);
  if (packet == nullptr) return {};
  if (const auto* error = std::get_if<Error>(packet)) {
    fail("client sent error " + std::to_string(static_cast<int>(error->code)) + ": " +
         error->message);
    return {};
  }
  const auto* ack = std::get_if<Ack>(packet);
  if (ack == nullptr) return {};
  if (oack_pending_) {
    if (ack->block != 0) return {};
    oack_pending_ = false;
  } else {
    // Map the 16-bit number onto the blocks in flight; anything else is stale or bogus.
    auto ahead = static_cast<std::uint16_t>(ack->block - wire_number(acked_));
    if (ahead == 0 || ahead > sent_ - acked_) return {};
    acked_ += ahead;
    if (acked_ == blocks_) {
      status_ = Status::kDone;
      return {};
    }
  }
  retries_ = 0;
  timeout_ = config_.params.timeout;
  return window(now);
}

Send ReadTransfer::on_timeout(Clock::time_point now) {
  if (status_ != Status::kRunning) return {};
  if (++retries_ > config_.max_retries) {
    fail("no ACK after " + std::to_string(config_.max_retries) + " retransmissions");
    return {};
  }
  timeout_ = std::min(std::max(config_.max_timeout, config_.params.timeout), timeout_ * 2);
  ++retransmits_;
  if (oack_pending_) {
    last_send_ = now;
    return Send{encode(Oack{config_.params.oack}), 0, 0};
  }
  return window(now);
}

}  // namespace crossrig::rig::tftp
