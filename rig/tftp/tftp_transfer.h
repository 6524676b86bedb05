#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rig/tftp/tftp_options.h"

namespace crossrig::rig::tftp {

/// The clock transfers are timed with.
using Clock = std::chrono::steady_clock;

/// How a read transfer runs: the file size and the negotiated parameters.
struct TransferConfig {
  std::uint64_t size = 0;
  Negotiated params;
  int max_retries = 6;                          ///< Timeouts in a row before giving up.
  std::chrono::milliseconds max_timeout{8000};  ///< Ceiling of the doubling backoff.
};

/// What the I/O shell must send now: an optional control packet (OACK or ERROR), then DATA
/// blocks [first_block, first_block + count), numbered from 1, read from the file.
struct Send {
  std::vector<std::uint8_t> control;
  std::uint64_t first_block = 0;
  std::uint64_t count = 0;
};

/// Where a transfer is.
enum class Status { kRunning, kDone, kFailed };

/// The server side of one read transfer (RFC 1350, 2347, 7440) as a pure state machine: it
/// consumes packets and timeouts and says what to send; the caller owns sockets and files.
/// Duplicate ACKs never trigger a send (no Sorcerer's Apprentice); only timeouts retransmit.
class ReadTransfer {
 public:
  ReadTransfer(TransferConfig config, Clock::time_point now);

  /// The first send: the OACK, or the first window when no option was accepted.
  Send start(Clock::time_point now);
  /// A datagram from the client.
  Send on_packet(std::span<const std::uint8_t> bytes, Clock::time_point now);
  /// Called at or after deadline(): retransmits with backoff, or fails after max_retries.
  Send on_timeout(Clock::time_point now);

  /// When on_timeout() is due.
  Clock::time_point deadline() const { return last_send_ + timeout_; }
  Status status() const { return status_; }
  /// Why the transfer failed, for the log.
  const std::string& failure() const { return failure_; }
  /// Number of DATA blocks in the transfer (the last one is shorter than blksize).
  std::uint64_t blocks() const { return blocks_; }
  /// Byte offset and length of block index (1-based) in the file.
  std::uint64_t block_offset(std::uint64_t index) const;
  std::size_t block_length(std::uint64_t index) const;
  /// The 16-bit number of block index on the wire; wraps to 0 after 65535.
  static std::uint16_t wire_number(std::uint64_t index) {
    return static_cast<std::uint16_t>(index & 0xffff);
  }
  /// Bytes the client acknowledged so far.
  std::uint64_t acked_bytes() const {
    return acked_ == 0 ? 0 : block_offset(acked_) + block_length(acked_);
  }
  /// Retransmissions so far, for the log.
  std::uint64_t retransmits() const { return retransmits_; }
  const TransferConfig& config() const { return config_; }

 private:
  Send window(Clock::time_point now);
  void fail(std::string why);

  TransferConfig config_;
  std::uint64_t blocks_;
  std::uint64_t acked_ = 0;  // highest block the client acknowledged
  std::uint64_t sent_ = 0;   // highest block sent
  bool oack_pending_;
  Status status_ = Status::kRunning;
  std::string failure_;
  Clock::time_point last_send_;
  std::chrono::milliseconds timeout_;
  int retries_ = 0;
  std::uint64_t retransmits_ = 0;
};

}  // namespace crossrig::rig::tftp
