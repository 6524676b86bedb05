#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crossrig::plugctl {

/// The HS100 family's autokey XOR cipher (initial key 171), without framing: UDP datagrams.
std::vector<std::uint8_t> xor_encrypt(std::string_view plain);
std::string xor_decrypt(std::span<const std::uint8_t> cipher);

/// A TCP frame: 4-byte big-endian length, then the encrypted payload.
std::vector<std::uint8_t> xor_frame(std::string_view plain);

/// The largest reply length prefix we accept; devices answer in a few KiB.
inline constexpr std::uint32_t kMaxXorFrame = 1 << 20;

/// Length of a frame from its 4-byte prefix.
std::uint32_t xor_frame_length(std::span<const std::uint8_t, 4> prefix);

}  // namespace crossrig::plugctl
