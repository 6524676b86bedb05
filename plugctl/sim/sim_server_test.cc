// plugsim over loopback, spoken to with the codecs directly: a real process, real sockets.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <variant>

#include "common/hex.h"
#include "common/net_io.h"
#include "plugctl/discovery_codec.h"
#include "plugctl/http_message.h"
#include "plugctl/klap_cipher.h"
#include "plugctl/sim/plugsim_process.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugsim {
namespace {

using nlohmann::json;
using plugctl::Bytes;
using plugctl::KlapVersion;
using namespace std::chrono_literals;

const std::string kPlugsim = CROSSRIG_BINARY_DIR "/bin/plugsim";

Deadline soon() {
  return Deadline(10s);
}

UniqueFd connect_to(int port) {
  return connect_tcp({"127.0.0.1", static_cast<std::uint16_t>(port)}, soon());
}

json xor_ask_on(int fd, const json& request) {
  auto frame = plugctl::xor_frame(request.dump());
  write_all(fd, frame, soon());
  std::array<std::uint8_t, 4> prefix{};
  read_exact(fd, prefix, soon());
  std::vector<std::uint8_t> body(plugctl::xor_frame_length(prefix));
  read_exact(fd, body, soon());
  return json::parse(plugctl::xor_decrypt(body));
}

json xor_ask(int port, const json& request) {
  UniqueFd fd = connect_to(port);
  return xor_ask_on(fd.get(), request);
}

json sysinfo(int port) {
  return xor_ask(port, {{"system", {{"get_sysinfo", json::object()}}}})["system"]["get_sysinfo"];
}

// True once the server has closed fd (read returns 0 or a reset).
bool closed_by_peer(int fd, std::chrono::milliseconds limit = 20s) {
  char buf[256];
  Deadline deadline(limit);
  for (;;) {
    try {
      if (read_some(fd, {reinterpret_cast<std::uint8_t*>(buf), sizeof buf}, deadline) == 0)
        return true;
    } catch (const NetError& e) {
      return e.kind() != NetError::kTimeout;
    }
  }
}

// Polls until pred holds; the bound is generous because the machine is shared.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
  Deadline deadline(limit);
  while (!deadline.expired()) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

plugctl::HttpResponse http_post(int port, const std::string& target, std::string body,
                                const std::string& cookie = "") {
  plugctl::HttpRequest request{"POST", target, {}, std::move(body)};
  request.headers.set("Host", "127.0.0.1");
  if (!cookie.empty()) request.headers.set("Cookie", cookie);
  UniqueFd fd = connect_to(port);
  write_all(fd.get(), as_bytes(serialize(request)), soon());
  plugctl::HttpParser<plugctl::HttpResponse> parser;
  std::uint8_t buf[4096];
  while (parser.feed({buf, read_some(fd.get(), buf, soon())}) ==
         decltype(parser)::State::kNeedMore) {
  }
  EXPECT_EQ(parser.state(), decltype(parser)::State::kComplete) << parser.error();
  return parser.message();
}

// The client side of KLAP, written from the protocol with the shared codecs.
struct KlapClient {
  int port;
  KlapVersion version;
  Bytes auth;
  std::string cookie;
  std::optional<plugctl::KlapSession> session;

  // Returns false when the device proves different credentials than ours.
  bool handshake() {
    Bytes local = plugctl::random_bytes(16);
    auto r1 = http_post(port, "/app/handshake1", as_string(local));
    EXPECT_EQ(r1.status, 200);
    EXPECT_EQ(r1.body.size(), 16u + 32u);
    std::string set_cookie = r1.headers.get("Set-Cookie").value_or("");
    cookie = set_cookie.substr(0, set_cookie.find(';'));
    Bytes remote(r1.body.begin(), r1.body.begin() + 16);
    Bytes proof(r1.body.begin() + 16, r1.body.end());
    if (proof != plugctl::klap_handshake1_hash(version, local, remote, auth)) return false;
    auto r2 =
        http_post(port, "/app/handshake2",
                  as_string(plugctl::klap_handshake2_hash(version, local, remote, auth)), cookie);
    EXPECT_EQ(r2.status, 200);
    session.emplace(local, remote, auth);
    return true;
  }

  // The decrypted answer, or the HTTP status when there is none.
  std::variant<json, int> ask(const json& request) {
    std::int32_t seq = session->next_seq();
    auto r = http_post(port, "/app/request?seq=" + std::to_string(seq),
                       as_string(session->encrypt(request.dump(), seq)), cookie);
    if (r.status != 200) return r.status;
    auto plain = session->decrypt(as_bytes(r.body), seq);
    EXPECT_TRUE(plain.has_value());
    return json::parse(plain.value_or("{}"));
  }
};

std::string write_credentials(const std::string& user, const std::string& password) {
  auto path =
      std::filesystem::temp_directory_path() / ("plugsim-creds-" + std::to_string(::getpid()));
  std::ofstream(path) << user << '\n' << password << '\n';
  return path;
}

TEST(PlugsimXor, TcpAndUdpAnswerFromTheFixtureAndTheRelayFollows) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS110:127.0.0.1:0"});
  int port = sim.xor_port();
  EXPECT_EQ(sim.devices()[0]["model"], "HS110(EU)");
  EXPECT_EQ(sysinfo(port)["relay_state"], 1);
  EXPECT_GT(xor_ask(port, {{"emeter",
                            {{"get_realtime", json::object()}}}})["emeter"]["get_realtime"]["power"]
                .get<double>(),
            0.5);
  EXPECT_EQ(
      xor_ask(port,
              {{"system",
                {{"set_relay_state", {{"state", 0}}}}}})["system"]["set_relay_state"]["err_code"],
      0);
  EXPECT_EQ(sysinfo(port)["relay_state"], 0);
  EXPECT_EQ(xor_ask(port, {{"emeter",
                            {{"get_realtime", json::object()}}}})["emeter"]["get_realtime"]["power"]
                .get<double>(),
            0.0);
  EXPECT_EQ(xor_ask(port, {{"foo", {{"bar", json::object()}}}})["foo"]["err_code"], -1);
  EXPECT_EQ(xor_ask(port, {{"system", {{"bar", json::object()}}}})["system"]["bar"]["err_msg"],
            "method not support");

  UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto target = resolve({"127.0.0.1", static_cast<std::uint16_t>(port)}, SOCK_DGRAM).front();
  auto query = plugctl::xor_encrypt(R"({"system":{"get_sysinfo":{}}})");
  ASSERT_EQ(::sendto(udp.get(), query.data(), query.size(), 0, target.get(), target.length),
            static_cast<ssize_t>(query.size()));
  std::uint8_t buf[4096];
  pollfd p{udp.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  ssize_t n = ::recv(udp.get(), buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(json::parse(plugctl::xor_decrypt(
                {buf, static_cast<std::size_t>(n)}))["system"]["get_sysinfo"]["mac"],
            sim.devices()[0]["mac"]);
}

TEST(PlugsimXor, SeveralRequestsOnOneConnectionAndStripChildren) {
  PlugsimProcess sim(kPlugsim, {"--device", "KP303:127.0.0.1:0"});
  UniqueFd fd = connect_to(sim.xor_port());
  json children = xor_ask_on(
      fd.get(),
      {{"system", {{"get_sysinfo", json::object()}}}})["system"]["get_sysinfo"]["children"];
  ASSERT_EQ(children.size(), 3u);
  std::string second = children[1]["id"];
  json on = {{"context", {{"child_ids", {second}}}},
             {"system", {{"set_relay_state", {{"state", 1}}}}}};
  EXPECT_EQ(xor_ask_on(fd.get(), on)["system"]["set_relay_state"]["err_code"], 0);
  children = xor_ask_on(
      fd.get(),
      {{"system", {{"get_sysinfo", json::object()}}}})["system"]["get_sysinfo"]["children"];
  EXPECT_EQ(children[0]["state"], 0);
  EXPECT_EQ(children[1]["state"], 1);
}

class PlugsimKlap : public ::testing::TestWithParam<KlapVersion> {};

TEST_P(PlugsimKlap, RightCredentialsGetAnswersWrongOnesDoNot) {
  std::string creds = write_credentials("user@example.com", "secret");
  std::string version = GetParam() == KlapVersion::kV1 ? "1" : "2";
  PlugsimProcess sim(
      kPlugsim,
      {"--device", "HS100@HS100(UK)_4.1_1.1.0:127.0.0.1:0,xor=off,klap=0,tdp=0,klap-version=" +
                       version + ",credentials=" + creds});
  std::filesystem::remove(creds);
  EXPECT_TRUE(sim.devices()[0]["xor_port"].is_null());
  KlapClient good{sim.klap_port(),
                  GetParam(),
                  plugctl::klap_auth_hash(GetParam(), "user@example.com", "secret"),
                  {},
                  {}};
  ASSERT_TRUE(good.handshake());
  auto reply = good.ask({{"system", {{"get_sysinfo", json::object()}}}});
  ASSERT_TRUE(std::holds_alternative<json>(reply));
  EXPECT_EQ(std::get<json>(reply)["system"]["get_sysinfo"]["model"], "HS100(UK)");
  reply = good.ask({{"system", {{"set_relay_state", {{"state", 1}}}}}});
  ASSERT_TRUE(std::holds_alternative<json>(reply));
  EXPECT_EQ(std::get<json>(reply)["system"]["set_relay_state"]["err_code"], 0);

  KlapClient wrong{sim.klap_port(),
                   GetParam(),
                   plugctl::klap_auth_hash(GetParam(), "user@example.com", "guess"),
                   {},
                   {}};
  EXPECT_FALSE(wrong.handshake()) << "the device's proof does not match other credentials";
  Bytes local = plugctl::random_bytes(16);
  auto r1 = http_post(sim.klap_port(), "/app/handshake1", as_string(local));
  std::string cookie = r1.headers.get("Set-Cookie").value_or("");
  cookie = cookie.substr(0, cookie.find(';'));
  Bytes remote(r1.body.begin(), r1.body.begin() + 16);
  auto r2 = http_post(
      sim.klap_port(), "/app/handshake2",
      as_string(plugctl::klap_handshake2_hash(GetParam(), local, remote, wrong.auth)), cookie);
  EXPECT_EQ(r2.status, 403);
  auto r3 = http_post(sim.klap_port(), "/app/request?seq=1", std::string(64, 'x'), cookie);
  EXPECT_EQ(r3.status, 403) << "no requests on a session that failed handshake2";
}

INSTANTIATE_TEST_SUITE_P(Versions, PlugsimKlap,
                         ::testing::Values(KlapVersion::kV1, KlapVersion::kV2),
                         [](const auto& p) { return p.param == KlapVersion::kV1 ? "v1" : "v2"; });

TEST(PlugsimKlapSession, ExpiresAndAFreshHandshakeWorks) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS103:127.0.0.1:0,klap=0,tdp=0,session-timeout=1"});
  KlapClient c{
      sim.klap_port(), KlapVersion::kV2, plugctl::klap_auth_hash(KlapVersion::kV2, "", ""), {}, {}};
  ASSERT_TRUE(c.handshake()) << "no credentials file means blank credentials";
  ASSERT_TRUE(std::holds_alternative<json>(c.ask({{"system", {{"get_sysinfo", json::object()}}}})));
  EXPECT_TRUE(eventually([&] {
    auto r = c.ask({{"system", {{"get_sysinfo", json::object()}}}});
    return std::holds_alternative<int>(r) && std::get<int>(r) == 403;
  }));
  ASSERT_TRUE(c.handshake());
  EXPECT_TRUE(std::holds_alternative<json>(c.ask({{"system", {{"get_sysinfo", json::object()}}}})));
}

TEST(PlugsimKlapDiscovery, AnswersTheTdpProbeWithItsKlapPort) {
  PlugsimProcess sim(
      kPlugsim, {"--device", "HS100@HS100(UK)_4.1_1.1.0:127.0.0.1:0,klap=0,tdp=0,klap-version=1"});
  UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  int tdp = sim.devices()[0]["tdp_port"];
  auto target = resolve({"127.0.0.1", static_cast<std::uint16_t>(tdp)}, SOCK_DGRAM).front();
  auto garbage = plugctl::xor_encrypt("not a probe");
  ::sendto(udp.get(), garbage.data(), garbage.size(), 0, target.get(), target.length);
  auto probe = plugctl::encode_klap_discovery_query();
  ::sendto(udp.get(), probe.data(), probe.size(), 0, target.get(), target.length);
  std::uint8_t buf[4096];
  pollfd p{udp.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  ssize_t n = ::recv(udp.get(), buf, sizeof buf, 0);
  auto result = plugctl::decode_klap_discovery_reply(
      {buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0))});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ((*result)["device_model"], "HS100(UK)");
  EXPECT_EQ((*result)["mgt_encrypt_schm"]["encrypt_type"], "KLAP");
  EXPECT_EQ((*result)["mgt_encrypt_schm"]["http_port"], sim.klap_port());
  EXPECT_EQ((*result)["mgt_encrypt_schm"]["lv"], 1);
}

TEST(PlugsimRobustness, GarbageTruncationAndHugePrefixesCloseOnlyThatConnection) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS100:127.0.0.1:0,klap=0,tdp=0"});
  int port = sim.xor_port();
  {
    UniqueFd fd = connect_to(port);
    std::string huge = "\xff\xff\xff\xf0garbage";
    write_all(fd.get(), as_bytes(huge), soon());
    EXPECT_TRUE(closed_by_peer(fd.get())) << "a 4 GiB length prefix closes the connection";
  }
  {
    UniqueFd fd = connect_to(port);
    auto frame = plugctl::xor_frame("this is not json");
    write_all(fd.get(), frame, soon());
    EXPECT_TRUE(closed_by_peer(fd.get()))
        << "a frame that is not JSON is dropped like the firmware does";
  }
  {
    UniqueFd fd = connect_to(port);
    auto frame = plugctl::xor_frame(R"({"system":{"get_sysinfo":{}}})");
    write_all(fd.get(), std::span(frame).first(10), soon());
  }
  {
    UniqueFd fd = connect_to(sim.klap_port());
    write_all(fd.get(), as_bytes(std::string(20000, 'A')), soon());
    EXPECT_TRUE(closed_by_peer(fd.get())) << "an endless HTTP header is refused";
  }
  auto r = http_post(sim.klap_port(), "/app/request?seq=1", "x");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(http_post(sim.klap_port(), "/nowhere", "").status, 404);
  EXPECT_EQ(sysinfo(port)["model"], "HS100(US)") << "well-behaved clients are still served";
}

TEST(PlugsimRobustness, SlowAndIdleClientsDoNotBlockOthersAndAreDropped) {
  PlugsimProcess sim(
      kPlugsim, {"--device", "HS105:127.0.0.1:0", "--request-timeout", "1", "--idle-timeout", "2"});
  int port = sim.xor_port();
  UniqueFd slow = connect_to(port);
  auto frame = plugctl::xor_frame(R"({"system":{"get_sysinfo":{}}})");
  write_all(slow.get(), std::span(frame).first(3), soon());
  std::vector<UniqueFd> idle;
  for (int i = 0; i < 300; ++i)
    idle.push_back(connect_to(port));
  EXPECT_EQ(sysinfo(port)["model"], "HS105(US)")
      << "a good client is answered while 301 others hold connections";
  EXPECT_TRUE(closed_by_peer(slow.get())) << "a request that never completes is cut off";
  EXPECT_TRUE(closed_by_peer(idle.back().get())) << "idle connections are closed";
  EXPECT_EQ(sysinfo(port)["model"], "HS105(US)");
}

TEST(PlugsimRobustness, ManyConcurrentClientsAllGetAnswers) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS300:127.0.0.1:0"});
  std::vector<UniqueFd> fds;
  auto frame = plugctl::xor_frame(R"({"system":{"get_sysinfo":{}}})");
  for (int i = 0; i < 300; ++i) {
    fds.push_back(connect_to(sim.xor_port()));
    write_all(fds.back().get(), frame, soon());
  }
  int answered = 0;
  for (auto& fd : fds) {
    std::array<std::uint8_t, 4> prefix{};
    read_exact(fd.get(), prefix, soon());
    std::vector<std::uint8_t> body(plugctl::xor_frame_length(prefix));
    read_exact(fd.get(), body, soon());
    answered += json::parse(plugctl::xor_decrypt(body))["system"]["get_sysinfo"]["child_num"] == 6;
  }
  EXPECT_EQ(answered, 300);
}

TEST(PlugsimReboot, DropsConnectionsRefusesForAMomentThenServesAgain) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS100:127.0.0.1:0,reboot-time=2"});
  int port = sim.xor_port();
  UniqueFd held = connect_to(port);
  EXPECT_EQ(
      xor_ask(port, {{"system", {{"reboot", {{"delay", 1}}}}}})["system"]["reboot"]["err_code"], 0);
  EXPECT_TRUE(closed_by_peer(held.get())) << "reboot drops open connections";
  EXPECT_TRUE(eventually([&] {
    try {
      connect_to(port);
      return false;
    } catch (const NetError& e) {
      return e.kind() == NetError::kUnreachable;
    }
  })) << "while rebooting, connections are refused";
  EXPECT_TRUE(eventually([&] {
    try {
      return sysinfo(port)["model"] == "HS100(US)";
    } catch (const NetError&) {
      return false;
    }
  })) << "after the reboot it answers on the same port";
}

TEST(PlugsimCountdown, TheRelaySwitchesWhenTheDelayElapses) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS100:127.0.0.1:0"});
  int port = sim.xor_port();
  ASSERT_EQ(sysinfo(port)["relay_state"], 0);
  json add = {
      {"count_down", {{"add_rule", {{"enable", 1}, {"delay", 1}, {"act", 1}, {"name", "test"}}}}}};
  EXPECT_EQ(xor_ask(port, add)["count_down"]["add_rule"]["err_code"], 0);
  EXPECT_TRUE(eventually([&] { return sysinfo(port)["relay_state"] == 1; }));
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PlugsimOnChange, RunsTheCommandWithDeviceOutletAndState) {
  auto dir =
      std::filesystem::temp_directory_path() / ("plugsim-onchange-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto log = dir / "log";
  PlugsimProcess sim(kPlugsim, {"--device", "KP303:127.0.0.1:0,name=strip7", "--on-change",
                                "echo \"$PLUGSIM_DEVICE $PLUGSIM_OUTLET $PLUGSIM_STATE\" >> '" +
                                    log.string() + "'"});
  int port = sim.xor_port();
  std::string third = sysinfo(port)["children"][2]["id"];
  xor_ask(port, {{"context", {{"child_ids", {third}}}},
                 {"system", {{"set_relay_state", {{"state", 1}}}}}});
  EXPECT_TRUE(eventually([&] { return read_text(log) == "strip7 3 on\n"; })) << read_text(log);
  xor_ask(port, {{"context", {{"child_ids", {third}}}},
                 {"system", {{"set_relay_state", {{"state", 1}}}}}});
  xor_ask(port, {{"context", {{"child_ids", {third}}}},
                 {"system", {{"set_relay_state", {{"state", 0}}}}}});
  EXPECT_TRUE(eventually([&] { return read_text(log) == "strip7 3 on\nstrip7 3 off\n"; }))
      << "no command when the relay does not change: " << read_text(log);
  EXPECT_EQ(sim.stop(), 0);
  std::filesystem::remove_all(dir);
}

TEST(PlugsimStateFile, RelayStatesSurviveARestart) {
  auto dir =
      std::filesystem::temp_directory_path() / ("plugsim-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string state = (dir / "relays.json").string();
  std::vector<std::string> args = {"--state-file", state,
                                   "--device",     "HS100:127.0.0.1:0,name=a",
                                   "--device",     "HS300:127.0.0.1:0,name=b"};
  {
    PlugsimProcess sim(kPlugsim, args);
    xor_ask(sim.xor_port(0), {{"system", {{"set_relay_state", {{"state", 1}}}}}});
    std::string first = sysinfo(sim.xor_port(1))["children"][0]["id"];
    xor_ask(sim.xor_port(1), {{"context", {{"child_ids", {first}}}},
                              {"system", {{"set_relay_state", {{"state", 0}}}}}});
    EXPECT_EQ(sim.stop(), 0);
  }
  json saved = json::parse(read_text(state));
  EXPECT_EQ(saved["relays"]["a"], json({true}));
  EXPECT_EQ(saved["relays"]["b"], json({false, true, true, true, true, true}));
  EXPECT_FALSE(std::filesystem::exists(state + ".tmp"));
  PlugsimProcess again(kPlugsim, args);
  EXPECT_EQ(sysinfo(again.xor_port(0))["relay_state"], 1);
  json children = sysinfo(again.xor_port(1))["children"];
  EXPECT_EQ(children[0]["state"], 0);
  EXPECT_EQ(children[1]["state"], 1);
  again.stop();
  std::filesystem::remove_all(dir);
}

TEST(PlugsimCli, BadArgumentsExitWithUsageStatus) {
  auto r = run_command({kPlugsim, "--device", "HS100:127.0.0.1:0,bogus=1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown device option \"bogus\""), std::string::npos) << r.err;
  r = run_command({kPlugsim, "--device", "HS999:127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no embedded fixture for model \"HS999\""), std::string::npos) << r.err;
  r = run_command({kPlugsim, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("credentials=FILE"), std::string::npos);
}

}  // namespace
}  // namespace crossrig::plugsim
