#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crossrig {

/// Lower-case hex of a byte string.
std::string to_hex(std::span<const std::uint8_t> bytes);

/// Bytes of a hex string (either case, even length); nullopt if it is not hex.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

/// A byte view of a string's characters.
inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// A string holding the given bytes.
inline std::string as_string(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace crossrig
