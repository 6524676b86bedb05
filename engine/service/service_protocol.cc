#include "engine/service/service_protocol.h"

#include <algorithm>

namespace crossrig::engine::service {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& what) {
  throw CkptError(CkptError::kUsage, "bad request: " + what);
}

bool flag(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  if (!it->is_boolean()) bad(std::string("'") + key + "' is not true or false");
  return it->get<bool>();
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (!it->is_string()) bad(std::string("'") + key + "' is not a string");
  return it->get<std::string>();
}

}  // namespace

std::vector<std::uint8_t> frame(const json& doc) {
  const std::string body = doc.dump();
  const auto n = static_cast<std::uint32_t>(body.size());
  std::vector<std::uint8_t> out(4 + body.size());
  for (int i = 0; i < 4; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
  std::copy(body.begin(), body.end(), out.begin() + 4);
  return out;
}

std::uint32_t frame_length(std::span<const std::uint8_t, 4> header) {
  const std::uint32_t n = (std::uint32_t{header[0]} << 24) | (std::uint32_t{header[1]} << 16) |
                          (std::uint32_t{header[2]} << 8) | std::uint32_t{header[3]};
  if (n == 0 || n > kMaxFrame) {
    throw CkptError(CkptError::kUsage, "a frame of " + std::to_string(n) +
                                           " bytes: frames hold 1 to " + std::to_string(kMaxFrame) +
                                           " bytes of JSON");
  }
  return n;
}

Request parse_request(std::span<const std::uint8_t> body) {
  const json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) bad("not JSON");
  if (!j.is_object()) bad("not a JSON object");
  Request r;
  r.op = text(j, "op");
  if (r.op != "dump" && r.op != "pre-dump" && r.op != "restore" && r.op != "check") {
    bad("'op' is '" + r.op + "', not dump, pre-dump, restore or check");
  }
  if (auto pid = j.find("pid"); pid != j.end()) {
    if (!pid->is_number_integer() || pid->get<long long>() <= 0 ||
        pid->get<long long>() > 0x3fffffff) {
      bad("'pid' is not a process id");
    }
    r.pid = static_cast<pid_t>(pid->get<long long>());
  }
  r.images_dir = text(j, "images_dir");
  r.prev_images_dir = text(j, "prev_images_dir");
  r.leave_running = flag(j, "leave_running");
  r.shell_job = flag(j, "shell_job");
  r.tcp_established = flag(j, "tcp_established");
  if (auto fd = j.find("self_fd"); fd != j.end()) {
    if (!fd->is_number_integer() || fd->get<long long>() < 0 || fd->get<long long>() > 1 << 20)
      bad("'self_fd' is not a file descriptor");
    r.self_fd = static_cast<int>(fd->get<long long>());
  }
  const bool dumps = r.op == "dump" || r.op == "pre-dump";
  if (dumps && r.pid == 0) bad(r.op + " needs 'pid'");
  if (r.op != "check" && r.images_dir.empty()) bad(r.op + " needs 'images_dir'");
  if (r.self_fd && r.op != "dump") bad("'self_fd' goes with dump only");
  return r;
}

json to_json(const Request& r) {
  json j{{"op", r.op}};
  if (r.pid) j["pid"] = r.pid;
  if (!r.images_dir.empty()) j["images_dir"] = r.images_dir;
  if (!r.prev_images_dir.empty()) j["prev_images_dir"] = r.prev_images_dir;
  if (r.leave_running) j["leave_running"] = true;
  if (r.shell_job) j["shell_job"] = true;
  if (r.tcp_established) j["tcp_established"] = true;
  if (r.self_fd) j["self_fd"] = *r.self_fd;
  return j;
}

std::string kind_name(CkptError::Kind kind) {
  switch (kind) {
    case CkptError::kUsage:
      return "usage";
    case CkptError::kUnsupported:
      return "unsupported";
    case CkptError::kBadImage:
      return "bad-image";
    case CkptError::kSystem:
      return "system";
    case CkptError::kDenied:
      return "denied";
  }
  return "system";
}

json error_reply(CkptError::Kind kind, const std::string& what) {
  return {
      {"ok", false}, {"code", static_cast<int>(kind)}, {"kind", kind_name(kind)}, {"error", what}};
}

json restored_reply() {
  return {{"ok", true}, {"status", "restored"}};
}

}  // namespace crossrig::engine::service
