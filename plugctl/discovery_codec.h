#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <vector>

namespace crossrig::plugctl {

/// UDP port legacy (XOR) devices answer discovery on.
inline constexpr std::uint16_t kXorDiscoveryPort = 9999;
/// UDP port KLAP devices answer TDP discovery on.
inline constexpr std::uint16_t kKlapDiscoveryPort = 20002;
/// Size of the TDP header that starts every 20002 datagram.
inline constexpr std::size_t kTdpHeaderSize = 16;

/// The XOR-encrypted sysinfo request broadcast on UDP 9999 (no length prefix).
std::vector<std::uint8_t> encode_xor_discovery_query();

/// python-kasa's header-only TDP v2 probe broadcast on UDP 20002.
std::vector<std::uint8_t> encode_klap_discovery_query();

/// True if the datagram is a TDP v2 probe with a valid header and CRC.
bool is_klap_discovery_query(std::span<const std::uint8_t> datagram);

/// A TDP v2 reply carrying {"result": result, "error_code": 0}.
std::vector<std::uint8_t> encode_klap_discovery_reply(const nlohmann::json& result);

/// The "result" object of a TDP v2 reply; nullopt if the datagram is not one.
std::optional<nlohmann::json> decode_klap_discovery_reply(std::span<const std::uint8_t> datagram);

/// CRC-32 (IEEE, as zlib computes it) of bytes.
std::uint32_t crc32_ieee(std::span<const std::uint8_t> bytes);

}  // namespace crossrig::plugctl
