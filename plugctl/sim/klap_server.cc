#include "plugctl/sim/klap_server.h"

#include <algorithm>
#include <charconv>

#include "common/hex.h"

namespace crossrig::plugsim {

using plugctl::Bytes;
using plugctl::HttpRequest;
using plugctl::HttpResponse;

namespace {

constexpr std::size_t kSeedSize = 16;

HttpResponse status(int code, const char* reason) {
  HttpResponse r;
  r.status = code;
  r.reason = reason;
  return r;
}

HttpResponse binary_ok(std::string body) {
  HttpResponse r = status(200, "OK");
  r.headers.set("Content-Type", "application/octet-stream");
  r.body = std::move(body);
  return r;
}

}  // namespace

std::optional<std::string> session_cookie(std::string_view header) {
  while (!header.empty()) {
    std::size_t end = header.find(';');
    std::string_view item = header.substr(0, end);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    if (item.starts_with(KlapServer::kCookie) && item.size() > KlapServer::kCookie.size() &&
        item[KlapServer::kCookie.size()] == '=') {
      return std::string(item.substr(KlapServer::kCookie.size() + 1));
    }
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return std::nullopt;
}

KlapServer::KlapServer(plugctl::KlapVersion version, Bytes auth_hash,
                       std::chrono::seconds session_timeout, std::size_t max_sessions)
    : version_(version),
      auth_hash_(std::move(auth_hash)),
      timeout_(session_timeout),
      max_sessions_(max_sessions) {}

HttpResponse KlapServer::handle(const HttpRequest& request, Clock::time_point now,
                                const Handler& device) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (path != "/app/handshake1" && path != "/app/handshake2" && path != "/app/request") {
    return status(404, "Not Found");
  }
  if (request.method != "POST") return status(405, "Method Not Allowed");
  if (path == "/app/handshake1") return handshake1(request, now);
  if (path == "/app/handshake2") return handshake2(request, now);
  return app_request(request, now, device);
}

KlapServer::Session* KlapServer::session_of(const HttpRequest& request, Clock::time_point now) {
  auto header = request.headers.get("Cookie");
  auto id = header ? session_cookie(*header) : std::nullopt;
  if (!id) return nullptr;
  auto it = sessions_.find(*id);
  if (it == sessions_.end()) return nullptr;
  if (it->second.expires <= now) {
    sessions_.erase(it);
    return nullptr;
  }
  return &it->second;
}

HttpResponse KlapServer::handshake1(const HttpRequest& request, Clock::time_point now) {
  if (request.body.size() != kSeedSize) return status(400, "Bad Request");
  std::erase_if(sessions_, [&](const auto& item) { return item.second.expires <= now; });
  while (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
    sessions_.erase(oldest);
  }
  Session s;
  s.local_seed = Bytes(request.body.begin(), request.body.end());
  s.remote_seed = plugctl::random_bytes(kSeedSize);
  s.expires = now + timeout_;
  Bytes proof = plugctl::klap_handshake1_hash(version_, s.local_seed, s.remote_seed, auth_hash_);
  std::string id = to_hex(plugctl::random_bytes(16));
  std::transform(id.begin(), id.end(), id.begin(),
                 [](char c) { return c >= 'a' && c <= 'f' ? static_cast<char>(c - 32) : c; });
  HttpResponse r = binary_ok(as_string(s.remote_seed) + as_string(proof));
  r.headers.set("Set-Cookie",
                std::string(kCookie) + "=" + id + ";TIMEOUT=" + std::to_string(timeout_.count()));
  sessions_[id] = std::move(s);
  return r;
}

HttpResponse KlapServer::handshake2(const HttpRequest& request, Clock::time_point now) {
  Session* s = session_of(request, now);
  if (!s) return status(403, "Forbidden");
  Bytes expected =
      plugctl::klap_handshake2_hash(version_, s->local_seed, s->remote_seed, auth_hash_);
  if (as_string(expected) != request.body) return status(403, "Forbidden");
  s->cipher.emplace(s->local_seed, s->remote_seed, auth_hash_);
  return binary_ok("");
}

HttpResponse KlapServer::app_request(const HttpRequest& request, Clock::time_point now,
                                     const Handler& device) {
  Session* s = session_of(request, now);
  if (!s || !s->cipher) return status(403, "Forbidden");
  std::string_view target = request.target;
  std::size_t at = target.find("seq=");
  std::int32_t seq = 0;
  if (at == std::string_view::npos) return status(400, "Bad Request");
  std::string_view digits = target.substr(at + 4);
  digits = digits.substr(0, digits.find('&'));
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return status(400, "Bad Request");
  auto plain = s->cipher->decrypt(as_bytes(request.body), seq);
  if (!plain) return status(400, "Bad Request");
  auto answer = device(*plain);
  if (!answer) return status(400, "Bad Request");
  return binary_ok(as_string(s->cipher->encrypt(*answer, seq)));
}

}  // namespace crossrig::plugsim
