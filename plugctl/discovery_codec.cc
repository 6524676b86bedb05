#include "plugctl/discovery_codec.h"

#include <array>
#include <string_view>

#include "common/hex.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {

namespace {

// TDP header layout (big-endian): version u8, msg_type u8, op_code u16, msg_size u16,
// flags u8, padding u8, serial u32, crc32 u32. The CRC covers the whole packet with this
// constant in the CRC slot.
constexpr std::uint8_t kTdpVersion = 2;
constexpr std::uint16_t kTdpOpProbe = 1;
constexpr std::uint32_t kTdpInitialCrc = 0x5A6B7C8D;
constexpr std::size_t kCrcOffset = 12;

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put_u32(std::uint8_t* at, std::uint32_t v) {
  at[0] = static_cast<std::uint8_t>(v >> 24);
  at[1] = static_cast<std::uint8_t>(v >> 16);
  at[2] = static_cast<std::uint8_t>(v >> 8);
  at[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get_u32(std::span<const std::uint8_t> at) {
  return std::uint32_t{at[0]} << 24 | std::uint32_t{at[1]} << 16 | std::uint32_t{at[2]} << 8 |
         at[3];
}

std::vector<std::uint8_t> tdp_packet(std::uint8_t msg_type, std::uint16_t op_code,
                                     std::uint8_t flags, std::string_view payload) {
  std::vector<std::uint8_t> out{kTdpVersion, msg_type};
  put_u16(out, op_code);
  put_u16(out, static_cast<std::uint16_t>(payload.size()));
  out.push_back(flags);
  out.push_back(0);             // padding
  out.insert(out.end(), 4, 0);  // serial
  out.insert(out.end(), 4, 0);  // crc slot
  put_u32(out.data() + kCrcOffset, kTdpInitialCrc);
  auto body = as_bytes(payload);
  out.insert(out.end(), body.begin(), body.end());
  put_u32(out.data() + kCrcOffset, crc32_ieee(out));
  return out;
}

}  // namespace

std::uint32_t crc32_ieee(std::span<const std::uint8_t> bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t b : bytes)
    c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::vector<std::uint8_t> encode_xor_discovery_query() {
  return xor_encrypt(R"({"system":{"get_sysinfo":{}}})");
}

std::vector<std::uint8_t> encode_klap_discovery_query() {
  return tdp_packet(0, kTdpOpProbe, 0, "");
}

bool is_klap_discovery_query(std::span<const std::uint8_t> d) {
  if (d.size() < kTdpHeaderSize || d[0] != kTdpVersion) return false;
  std::size_t msg_size = std::size_t{d[4]} << 8 | d[5];
  if (d.size() != kTdpHeaderSize + msg_size) return false;
  std::vector<std::uint8_t> copy(d.begin(), d.end());
  put_u32(copy.data() + kCrcOffset, kTdpInitialCrc);
  return crc32_ieee(copy) == get_u32(d.subspan(kCrcOffset, 4));
}

std::vector<std::uint8_t> encode_klap_discovery_reply(const nlohmann::json& result) {
  nlohmann::json reply = {{"result", result}, {"error_code", 0}};
  return tdp_packet(0, kTdpOpProbe, 0, reply.dump());
}

std::optional<nlohmann::json> decode_klap_discovery_reply(std::span<const std::uint8_t> d) {
  // The CRC of replies is not checked, as python-kasa does not: firmware differs on it and a
  // corrupted datagram still has to parse as JSON with the right shape to be accepted.
  if (d.size() <= kTdpHeaderSize || d[0] != kTdpVersion) return std::nullopt;
  auto payload = d.subspan(kTdpHeaderSize);
  nlohmann::json j = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto result = j.find("result");
  if (result == j.end() || !result->is_object()) return std::nullopt;
  auto code = j.find("error_code");
  if (code != j.end() && (!code->is_number_integer() || code->get<long long>() != 0)) {
    return std::nullopt;
  }
  return *result;
}

}  // namespace crossrig::plugctl
