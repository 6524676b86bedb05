#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

namespace crossrig::plugctl {

/// Checks the length prefix of an XOR TCP reply from target and returns the payload length;
/// throws PlugError (kBadReply) when it is over kMaxXorFrame or is the start of an HTTP answer.
std::uint32_t check_xor_reply_length(std::span<const std::uint8_t, 4> prefix,
                                     const std::string& target);

/// The JSON text of a complete XOR TCP reply (prefix and payload); throws PlugError
/// (kBadReply) when it is oversized, truncated or has bytes past its length.
std::string decode_xor_tcp_reply(std::span<const std::uint8_t> frame, const std::string& target);

/// Parses reply text from target into a JSON object; throws PlugError (kBadReply) otherwise.
nlohmann::json parse_json_reply(std::string_view text, const std::string& target);

/// Checks a device reply against the request it answers: every module and method asked for is
/// answered with err_code 0. Throws PlugError kDevice with the device's err_msg, or kBadReply
/// when the reply does not have the request's shape.
void check_reply(const nlohmann::json& request, const nlohmann::json& reply,
                 const std::string& target);

}  // namespace crossrig::plugctl
