#include "plugctl/klap_transport.h"

#include <array>

#include "common/hex.h"
#include "plugctl/errors.h"

namespace crossrig::plugctl {

namespace {

constexpr std::string_view kCookieName = "TP_SESSIONID";
constexpr std::size_t kSeedSize = 16;
constexpr std::size_t kHashSize = 32;

bool session_expired(int status) {
  return status == 401 || status == 403;
}

}  // namespace

std::optional<std::string> klap_session_cookie(std::string_view set_cookie) {
  std::size_t pos = 0;
  while (pos < set_cookie.size()) {
    std::size_t end = set_cookie.find(';', pos);
    std::string_view part = set_cookie.substr(pos, end == std::string_view::npos ? end : end - pos);
    while (!part.empty() && part.front() == ' ')
      part.remove_prefix(1);
    if (part.size() > kCookieName.size() + 1 && part.substr(0, kCookieName.size()) == kCookieName &&
        part[kCookieName.size()] == '=') {
      return std::string(part.substr(kCookieName.size() + 1));
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return std::nullopt;
}

void KlapTransport::reset() {
  session_.reset();
  cookie_.clear();
}

HttpResponse KlapTransport::post(const std::string& path, std::string body,
                                 const Deadline& deadline) {
  std::string where = target();
  HttpRequest req{"POST", path, {}, std::move(body)};
  req.headers.set("Host", where);
  req.headers.set("Content-Type", "application/octet-stream");
  req.headers.set("Connection", "close");
  if (!cookie_.empty()) req.headers.set("Cookie", std::string(kCookieName) + "=" + cookie_);
  try {
    UniqueFd fd = connect_tcp(device_, deadline);
    write_all(fd.get(), as_bytes(serialize(req)), deadline);
    HttpParser<HttpResponse> parser;
    std::array<std::uint8_t, 4096> buf{};
    std::size_t total = 0;
    for (;;) {
      std::size_t n = read_some(fd.get(), buf, deadline);
      if (n == 0) {
        if (total == 0) throw NetError(NetError::kClosed, "no reply bytes to POST " + path);
        throw PlugError(PlugError::kBadReply, where + ": truncated HTTP reply to " + path +
                                                  " after " + std::to_string(total) + " bytes");
      }
      total += n;
      auto state = parser.feed(std::span(buf).first(n));
      if (state == HttpParser<HttpResponse>::State::kComplete) return parser.message();
      if (state == HttpParser<HttpResponse>::State::kError) {
        throw PlugError(PlugError::kBadReply,
                        where + ": bad HTTP reply to " + path + ": " + parser.error());
      }
    }
  } catch (const NetError& e) {
    throw from_net_error(e, where);
  }
}

void KlapTransport::handshake(const Deadline& deadline) {
  reset();
  std::string where = target();
  Bytes local_seed = random_bytes(kSeedSize);
  HttpResponse h1 = post("/app/handshake1", as_string(local_seed), deadline);
  if (h1.status != 200) {
    throw PlugError(PlugError::kBadReply, where + ": KLAP handshake1 answered HTTP " +
                                              std::to_string(h1.status) + " " + h1.reason +
                                              "; is this a KLAP device? try --transport xor");
  }
  if (h1.body.size() != kSeedSize + kHashSize) {
    throw PlugError(PlugError::kBadReply, where + ": KLAP handshake1 answer is " +
                                              std::to_string(h1.body.size()) +
                                              " bytes, expected 48");
  }
  if (auto set_cookie = h1.headers.get("Set-Cookie")) {
    cookie_ = klap_session_cookie(*set_cookie).value_or("");
  }
  auto body = as_bytes(h1.body);
  auto remote_seed = body.first(kSeedSize);
  auto server_hash = body.subspan(kSeedSize);
  auto match =
      match_handshake1(auth_candidates(credentials_), local_seed, remote_seed, server_hash);
  if (!match) {
    throw PlugError(PlugError::kAuth,
                    where +
                        ": the device accepted none of the credentials tried (given ones "
                        "as KLAP v2 and v1, blank, known defaults); give the account the "
                        "device is bound to with --username and --password-file, or "
                        "KASA_USERNAME and KASA_PASSWORD");
  }
  Bytes proof = klap_handshake2_hash(match->version, local_seed, remote_seed, match->auth_hash);
  HttpResponse h2 = post("/app/handshake2", as_string(proof), deadline);
  if (h2.status != 200) {
    throw PlugError(PlugError::kAuth, where + ": KLAP handshake2 refused (HTTP " +
                                          std::to_string(h2.status) + ") with " + match->source);
  }
  session_.emplace(local_seed, remote_seed, match->auth_hash);
  accepted_ = match;
}

std::string KlapTransport::send(std::string_view request, const Deadline& deadline) {
  std::string where = target();
  bool fresh = false;
  if (!session_) {
    handshake(deadline);
    fresh = true;
  }
  for (;;) {
    std::int32_t seq = session_->next_seq();
    HttpResponse r = post("/app/request?seq=" + std::to_string(seq),
                          as_string(session_->encrypt(request, seq)), deadline);
    if (session_expired(r.status) && !fresh) {
      handshake(deadline);
      fresh = true;
      continue;
    }
    if (session_expired(r.status)) {
      throw PlugError(PlugError::kAuth, where +
                                            ": the device refused a request right after a "
                                            "successful handshake (HTTP " +
                                            std::to_string(r.status) + ")");
    }
    if (r.status != 200) {
      throw PlugError(PlugError::kBadReply,
                      where + ": KLAP request answered HTTP " + std::to_string(r.status));
    }
    auto plain = session_->decrypt(as_bytes(r.body), seq);
    if (!plain) {
      throw PlugError(PlugError::kBadReply,
                      where + ": KLAP reply fails its signature or padding check");
    }
    return *plain;
  }
}

}  // namespace crossrig::plugctl
