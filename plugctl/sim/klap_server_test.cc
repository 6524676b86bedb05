#include "plugctl/sim/klap_server.h"

#include <gtest/gtest.h>

#include "common/hex.h"

namespace crossrig::plugsim {
namespace {

using plugctl::Bytes;
using plugctl::HttpRequest;
using plugctl::HttpResponse;
using plugctl::KlapVersion;
using namespace std::chrono_literals;

const KlapServer::Clock::time_point kT0{std::chrono::hours(100)};

HttpRequest post(std::string target, std::string body, std::string cookie = "") {
  HttpRequest r{"POST", std::move(target), {}, std::move(body)};
  if (!cookie.empty()) r.headers.set("Cookie", cookie);
  return r;
}

KlapServer::Handler echo() {
  return [](std::string_view plain) {
    return std::optional<std::string>("echo:" + std::string(plain));
  };
}

struct Handshake {
  std::string cookie;
  plugctl::KlapSession session;
};

Handshake handshake(KlapServer& server, KlapVersion v, const Bytes& auth,
                    KlapServer::Clock::time_point now) {
  Bytes local(16, 7);
  HttpResponse r1 = server.handle(post("/app/handshake1", as_string(local)), now, echo());
  EXPECT_EQ(r1.status, 200);
  Bytes remote(r1.body.begin(), r1.body.begin() + 16);
  EXPECT_EQ(Bytes(r1.body.begin() + 16, r1.body.end()),
            plugctl::klap_handshake1_hash(v, local, remote, auth));
  std::string set = r1.headers.get("set-cookie").value_or("");
  EXPECT_NE(set.find(";TIMEOUT=60"), std::string::npos) << set;
  std::string cookie = set.substr(0, set.find(';'));
  HttpResponse r2 =
      server.handle(post("/app/handshake2",
                         as_string(plugctl::klap_handshake2_hash(v, local, remote, auth)), cookie),
                    now, echo());
  EXPECT_EQ(r2.status, 200);
  return {cookie, plugctl::KlapSession(local, remote, auth)};
}

TEST(KlapServer, EncryptedRequestsReachTheDeviceUntilTheSessionExpires) {
  for (KlapVersion v : {KlapVersion::kV1, KlapVersion::kV2}) {
    Bytes auth = plugctl::klap_auth_hash(v, "u", "p");
    KlapServer server(v, auth, 60s);
    Handshake h = handshake(server, v, auth, kT0);
    std::int32_t seq = h.session.next_seq();
    HttpResponse r = server.handle(post("/app/request?seq=" + std::to_string(seq),
                                        as_string(h.session.encrypt("{}", seq)), h.cookie),
                                   kT0 + 1s, echo());
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(h.session.decrypt(as_bytes(r.body), seq), "echo:{}");
    EXPECT_EQ(server
                  .handle(post("/app/request?seq=" + std::to_string(seq),
                               as_string(h.session.encrypt("{}", seq + 1)), h.cookie),
                          kT0 + 1s, echo())
                  .status,
              400)
        << "a body signed under another sequence number is refused";
    EXPECT_EQ(server
                  .handle(post("/app/request?seq=" + std::to_string(seq),
                               as_string(h.session.encrypt("{}", seq)), h.cookie),
                          kT0 + 60s, echo())
                  .status,
              403)
        << "the session expired";
  }
}

TEST(KlapServer, RefusesUnknownSessionsWrongProofsAndStrayPaths) {
  Bytes auth = plugctl::klap_auth_hash(KlapVersion::kV2, "u", "p");
  KlapServer server(KlapVersion::kV2, auth, 60s);
  EXPECT_EQ(server.handle(post("/app/request?seq=1", "x", "TP_SESSIONID=nope"), kT0, echo()).status,
            403);
  EXPECT_EQ(server.handle(post("/app/handshake1", "short"), kT0, echo()).status, 400);
  EXPECT_EQ(server.handle(post("/elsewhere", ""), kT0, echo()).status, 404);
  HttpRequest get{"GET", "/app/handshake1", {}, ""};
  EXPECT_EQ(server.handle(get, kT0, echo()).status, 405);
  HttpResponse r1 = server.handle(post("/app/handshake1", std::string(16, 'a')), kT0, echo());
  std::string cookie =
      r1.headers.get("Set-Cookie")->substr(0, r1.headers.get("Set-Cookie")->find(';'));
  EXPECT_EQ(
      server.handle(post("/app/handshake2", std::string(32, 'b'), cookie), kT0, echo()).status,
      403);
  EXPECT_EQ(
      server.handle(post("/app/request?seq=1", std::string(48, 'c'), cookie), kT0, echo()).status,
      403);
}

TEST(KlapServer, SessionCookieAmongOthers) {
  EXPECT_EQ(session_cookie("TP_SESSIONID=ABC"), "ABC");
  EXPECT_EQ(session_cookie("a=1; TP_SESSIONID=XYZ; b=2"), "XYZ");
  EXPECT_EQ(session_cookie("TP_SESSIONIDX=1"), std::nullopt);
  EXPECT_EQ(session_cookie(""), std::nullopt);
}

}  // namespace
}  // namespace crossrig::plugsim
