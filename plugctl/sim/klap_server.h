#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "plugctl/http_message.h"
#include "plugctl/klap_cipher.h"

namespace crossrig::plugsim {

/// The device side of KLAP: handshake1/handshake2 with a session cookie that expires, then
/// /app/request?seq=N bodies decrypted, passed to the device and the answers encrypted.
/// Pure: HTTP request in, HTTP response out, time passed in.
class KlapServer {
 public:
  using Clock = std::chrono::steady_clock;
  /// Answers a decrypted request text; nullopt when the device drops it.
  using Handler = std::function<std::optional<std::string>(std::string_view plain)>;

  KlapServer(plugctl::KlapVersion version, plugctl::Bytes auth_hash,
             std::chrono::seconds session_timeout, std::size_t max_sessions = 64);

  /// The response to one HTTP request.
  plugctl::HttpResponse handle(const plugctl::HttpRequest& request, Clock::time_point now,
                               const Handler& device);

  /// The name of the session cookie.
  static constexpr std::string_view kCookie = "TP_SESSIONID";

 private:
  struct Session {
    plugctl::Bytes local_seed, remote_seed;
    Clock::time_point expires;
    std::optional<plugctl::KlapSession> cipher;  // set once handshake2 proved the credentials
  };

  plugctl::HttpResponse handshake1(const plugctl::HttpRequest& request, Clock::time_point now);
  plugctl::HttpResponse handshake2(const plugctl::HttpRequest& request, Clock::time_point now);
  plugctl::HttpResponse app_request(const plugctl::HttpRequest& request, Clock::time_point now,
                                    const Handler& device);
  Session* session_of(const plugctl::HttpRequest& request, Clock::time_point now);

  plugctl::KlapVersion version_;
  plugctl::Bytes auth_hash_;
  std::chrono::seconds timeout_;
  std::size_t max_sessions_;
  std::map<std::string, Session> sessions_;
};

/// The session id in a Cookie header value ("TP_SESSIONID=...; other=..."), if present.
std::optional<std::string> session_cookie(std::string_view cookie_header);

}  // namespace crossrig::plugsim
