#include "plugctl/reply.h"

#include "plugctl/errors.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {

namespace {

PlugError bad_reply(const std::string& target, const std::string& what) {
  return PlugError(PlugError::kBadReply, target + ": " + what);
}

// A device reports failure either for a whole module ({"emeter":{"err_code":-1,...}}) or for
// one method ({"system":{"x":{"err_code":-2,...}}}).
void check_err_code(const nlohmann::json& node, const std::string& where,
                    const std::string& target) {
  auto code = node.find("err_code");
  if (code == node.end()) return;
  if (!code->is_number_integer()) throw bad_reply(target, where + ": err_code is not a number");
  long long value = code->get<long long>();
  if (value == 0) return;
  std::string msg = "no message";
  auto m = node.find("err_msg");
  if (m != node.end() && m->is_string()) msg = m->get<std::string>();
  throw PlugError(PlugError::kDevice, target + ": device refused " + where + ": " + msg +
                                          " (err_code " + std::to_string(value) + ")");
}

}  // namespace

std::uint32_t check_xor_reply_length(std::span<const std::uint8_t, 4> prefix,
                                     const std::string& target) {
  if (prefix[0] == 'H' && prefix[1] == 'T' && prefix[2] == 'T' && prefix[3] == 'P') {
    throw PlugError(PlugError::kBadReply,
                    target + ": answered with HTTP, not the XOR protocol; use --transport klap",
                    false, PlugError::Cause::kWrongProtocol);
  }
  std::uint32_t length = xor_frame_length(prefix);
  if (length > kMaxXorFrame) {
    throw bad_reply(target, "reply length prefix " + std::to_string(length) +
                                " is over the 1 MiB limit; this is not a plug reply");
  }
  return length;
}

std::string decode_xor_tcp_reply(std::span<const std::uint8_t> frame, const std::string& target) {
  if (frame.size() < 4) {
    throw bad_reply(target, "truncated reply: " + std::to_string(frame.size()) +
                                " bytes, shorter than the 4-byte length prefix");
  }
  std::uint32_t length = check_xor_reply_length(frame.first<4>(), target);
  auto payload = frame.subspan(4);
  if (payload.size() < length) {
    throw bad_reply(target, "truncated reply: got " + std::to_string(payload.size()) + " of " +
                                std::to_string(length) + " bytes");
  }
  if (payload.size() > length) {
    throw bad_reply(target, "reply has " + std::to_string(payload.size() - length) +
                                " bytes past its length prefix");
  }
  return xor_decrypt(payload);
}

nlohmann::json parse_json_reply(std::string_view text, const std::string& target) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    throw bad_reply(target, "reply is not JSON (" + std::to_string(text.size()) + " bytes)");
  }
  if (!j.is_object()) throw bad_reply(target, "reply is JSON but not an object");
  return j;
}

void check_reply(const nlohmann::json& request, const nlohmann::json& reply,
                 const std::string& target) {
  for (const auto& [module, methods] : request.items()) {
    if (module == "context") continue;
    auto m = reply.find(module);
    if (m == reply.end() || !m->is_object()) {
      throw bad_reply(target, "reply has no object for module '" + module + "'");
    }
    check_err_code(*m, "module '" + module + "'", target);
    if (!methods.is_object()) continue;
    for (const auto& [method, args] : methods.items()) {
      auto r = m->find(method);
      if (r == m->end() || !r->is_object()) {
        throw bad_reply(target, "reply has no object for " + module + "." + method);
      }
      check_err_code(*r, module + "." + method, target);
    }
  }
}

}  // namespace crossrig::plugctl
