#pragma once
// What `ckpt service` and its clients (libckpt, engine/api/service_client.h) say on the unix
// socket: each message is a frame, a 4-byte big-endian length and that many bytes of JSON.
// The client sends one request and reads one reply; the connection then closes.
//
// Request: {"op": "dump" | "pre-dump" | "restore" | "check", "pid": N, "images_dir": D,
//           "prev_images_dir": P, "leave_running": B, "shell_job": B, "tcp_established": B,
//           "self_fd": F}
//   self_fd: the caller asks to dump itself (pid is its own) and waits for the reply on its
//   fd F, this connection; a restored copy of it reads {"ok": true, "status": "restored"}.
// Reply: {"ok": true, "status": "dumped" | "pre-dumped" | "restored" | "checked", ...}
//        {"ok": false, "code": 2..6, "kind": "usage" | ..., "error": "what went wrong"}

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/ckpt_error.h"

namespace crossrig::engine::service {

/// The largest frame either side accepts: requests are a few hundred bytes, check's reply a
/// few KiB.
inline constexpr std::uint32_t kMaxFrame = 64 * 1024;

/// The frame carrying doc.
std::vector<std::uint8_t> frame(const nlohmann::json& doc);

/// The length a frame's 4-byte header announces; throws kUsage over kMaxFrame or for 0.
std::uint32_t frame_length(std::span<const std::uint8_t, 4> header);

struct Request {
  std::string op;
  pid_t pid = 0;
  std::string images_dir, prev_images_dir;
  bool leave_running = false, shell_job = false, tcp_established = false;
  std::optional<int> self_fd;
};

/// Parses a request's JSON; throws CkptError(kUsage) naming the bad field.
Request parse_request(std::span<const std::uint8_t> body);

nlohmann::json to_json(const Request& r);

/// The reply for a failure.
nlohmann::json error_reply(CkptError::Kind kind, const std::string& what);

/// "usage", "unsupported", "bad-image", "system", "denied".
std::string kind_name(CkptError::Kind kind);

/// What a restored copy of a process that dumped itself reads.
nlohmann::json restored_reply();

}  // namespace crossrig::engine::service
