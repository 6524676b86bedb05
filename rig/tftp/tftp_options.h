#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "rig/tftp/tftp_packet.h"

namespace crossrig::rig::tftp {

/// What the server allows clients to ask for.
struct OptionLimits {
  std::uint16_t max_blksize = 65464;  ///< RFC 2348's ceiling.
  std::uint16_t max_windowsize = 64;  ///< Larger windows only overflow receive buffers.
  /// Most bytes in one window (0: no limit). Clients with the kernel's default 208 KiB receive
  /// buffer (atftp, firmware) drop the rest of a burst and stall on timeouts: 4 x 64 KiB
  /// blocks already do that to atftp.
  std::uint32_t max_window_bytes = 128 << 10;
};

/// The parameters a read transfer runs with, after option negotiation.
struct Negotiated {
  std::uint16_t blksize = 512;
  std::uint16_t windowsize = 1;
  std::chrono::milliseconds timeout{1000};  ///< First retransmission timeout.
  std::vector<Option> oack;                 ///< Accepted options; empty means no OACK.
};

/// Negotiates RFC 2347/2348/2349/7440 options of a read request for a file of file_size
/// bytes. Unknown options are ignored (left out of the OACK); values above the limits are
/// lowered (windowsize also to fit max_window_bytes, but never below 1); malformed or too
/// small values give the text of an option-refused error.
std::variant<Negotiated, std::string> negotiate(const std::vector<Option>& requested,
                                                std::uint64_t file_size,
                                                const OptionLimits& limits);

}  // namespace crossrig::rig::tftp
