// End to end: the real plugctl binary against plugsim processes, every command and exit code.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "common/hex.h"
#include "common/net_io.h"
#include "common/unique_fd.h"
#include "plugctl/sim/plugsim_process.h"

namespace crossrig::plugsim {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kPlugctl = CROSSRIG_BINARY_DIR "/bin/plugctl";
const std::string kPlugsim = CROSSRIG_BINARY_DIR "/bin/plugsim";
const std::string kSelf = CROSSRIG_BINARY_DIR "/bin/plugctl_e2e_test";

// Exit codes of plugctl, from the issue.
constexpr int kOk = 0, kDeviceError = 1, kUsage = 2, kUnreachable = 3, kAuth = 4, kBadReply = 5;

std::string host_of(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

CommandResult plugctl(int port, std::vector<std::string> args,
                      const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {kPlugctl, "-H", host_of(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, 60s, env);
}

// Runs plugctl --json and parses its output; fails the test if it did not succeed.
json plugctl_json(int port, std::vector<std::string> args) {
  args.insert(args.begin(), "--json");
  CommandResult r = plugctl(port, args);
  EXPECT_EQ(r.exit_code, kOk) << r.err;
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
  return j;
}

std::string temp_file(const std::string& stem, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / (stem + "-" + std::to_string(::getpid()));
  std::ofstream(path) << text;
  return path.string();
}

TEST(PlugctlE2E, OnOffStateAndToggle) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS100:127.0.0.1:0"});
  int port = sim.xor_port();
  EXPECT_EQ(plugctl(port, {"state"}).out, "Power OFF\n");
  CommandResult on = plugctl(port, {"on"});
  EXPECT_EQ(on.exit_code, kOk) << on.err;
  EXPECT_EQ(plugctl(port, {"state"}).out, "Power ON\n");
  EXPECT_EQ(plugctl_json(port, {"state"}), json({{"on", true}}));
  EXPECT_EQ(plugctl_json(port, {"off"}), json({{"on", false}}));
  EXPECT_EQ(plugctl(port, {"state"}).out, "Power OFF\n");
  EXPECT_EQ(plugctl(port, {"toggle"}).out, "Power ON\n");
  EXPECT_EQ(plugctl_json(port, {"toggle"}), json({{"on", false}}));
  EXPECT_EQ(plugctl(port, {"state"}).out, "Power OFF\n");
}

TEST(PlugctlE2E, Ipv6Loopback) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS100:[::1]:0"});
  std::string host = "[::1]:" + std::to_string(sim.xor_port());
  CommandResult on = run_command({kPlugctl, "-H", host, "on"});
  EXPECT_EQ(on.exit_code, kOk) << on.err;
  EXPECT_EQ(run_command({kPlugctl, "-H", host, "state"}).out, "Power ON\n");
}

TEST(PlugctlE2E, InfoLedAliasTimeRaw) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS105:127.0.0.1:0"});
  int port = sim.xor_port();
  std::string mac = sim.devices()[0]["mac"];
  CommandResult info = plugctl(port, {"info"});
  EXPECT_EQ(info.exit_code, kOk);
  EXPECT_NE(info.out.find("HS105(US)"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find(mac), std::string::npos) << info.out;
  json j = plugctl_json(port, {"info"});
  EXPECT_EQ(j["model"], "HS105(US)");
  EXPECT_EQ(j["mac"], mac);
  EXPECT_EQ(j["on"], true);

  EXPECT_EQ(plugctl_json(port, {"led", "off"}), json({{"led", false}}));
  EXPECT_EQ(plugctl_json(port, {"led"}), json({{"led", false}}));
  EXPECT_EQ(plugctl_json(port, {"info"})["led"], false);
  EXPECT_EQ(plugctl(port, {"led", "on"}).exit_code, kOk);
  EXPECT_EQ(plugctl_json(port, {"led"}), json({{"led", true}}));

  EXPECT_EQ(plugctl(port, {"alias", "board 7 power"}).exit_code, kOk);
  EXPECT_EQ(plugctl(port, {"alias"}).out, "board 7 power\n");
  EXPECT_EQ(plugctl_json(port, {"alias"}), json({{"alias", "board 7 power"}}));

  CommandResult t = plugctl(port, {"time"});
  EXPECT_TRUE(std::regex_search(t.out, std::regex(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)"))) << t.out;
  EXPECT_TRUE(plugctl_json(port, {"time"}).contains("time"));

  json raw = plugctl_json(port, {"raw", R"({"system":{"get_sysinfo":{}}})"});
  EXPECT_EQ(raw["system"]["get_sysinfo"]["alias"], "board 7 power");
  CommandResult text_raw = plugctl(port, {"raw", R"({"system":{"get_sysinfo":{}}})"});
  EXPECT_EQ(json::parse(text_raw.out)["system"]["get_sysinfo"]["model"], "HS105(US)");
}

TEST(PlugctlE2E, DeviceErrorsAndUsageErrors) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS100:127.0.0.1:0"});
  int port = sim.xor_port();
  CommandResult r = plugctl(port, {"raw", R"({"nomodule":{"x":{}}})"});
  EXPECT_EQ(r.exit_code, kDeviceError);
  EXPECT_NE(r.err.find("module not support"), std::string::npos) << r.err;
  r = plugctl(port, {"emeter"});
  EXPECT_EQ(r.exit_code, kDeviceError) << "an HS100 has no energy meter: " << r.err;
  EXPECT_EQ(plugctl(port, {"frobnicate"}).exit_code, kUsage);
  EXPECT_EQ(plugctl(port, {"raw", "{not json"}).exit_code, kUsage);
  EXPECT_EQ(run_command({kPlugctl, "state"}).exit_code, kUsage) << "no -H";
}

TEST(PlugctlE2E, RebootThenTheDeviceComesBack) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS103:127.0.0.1:0,reboot-time=1"});
  int port = sim.xor_port();
  EXPECT_EQ(plugctl_json(port, {"reboot"}), json({{"rebooting", true}}));
  bool went_down = false, back = false;
  for (int i = 0; i < 400 && !back; ++i) {
    CommandResult r = plugctl(port, {"--timeout", "2", "state"});
    went_down = went_down || r.exit_code == kUnreachable;
    back = went_down && r.exit_code == kOk;
    if (!back) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(went_down) << "plugctl saw the device refuse connections while it rebooted";
  EXPECT_TRUE(back) << "and answer again afterwards";
}

TEST(PlugctlE2E, EmeterNormalisesBothUnitStyles) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS110:127.0.0.1:0", "--device", "KP115:127.0.0.1:0"});
  int floats = sim.xor_port(0), milli = sim.xor_port(1);
  json a = plugctl_json(floats, {"emeter"});
  EXPECT_NEAR(a["power_w"].get<double>(), 0.928511, 1e-6);
  EXPECT_NEAR(a["voltage_v"].get<double>(), 231.067823, 1e-6);
  EXPECT_NEAR(a["total_kwh"].get<double>(), 55.139, 1e-6);
  json b = plugctl_json(milli, {"emeter"});
  EXPECT_NEAR(b["power_w"].get<double>(), 45.21, 1e-9);
  EXPECT_NEAR(b["current_a"].get<double>(), 0.412, 1e-9);
  EXPECT_NEAR(b["voltage_v"].get<double>(), 120.95, 1e-9);
  EXPECT_NEAR(b["total_kwh"].get<double>(), 1.834, 1e-9);
  CommandResult text = plugctl(milli, {"emeter"});
  EXPECT_NE(text.out.find("45.21 W"), std::string::npos) << text.out;

  EXPECT_EQ(plugctl(milli, {"off"}).exit_code, kOk);
  EXPECT_EQ(plugctl_json(milli, {"emeter"})["power_w"].get<double>(), 0.0)
      << "0 W when the relay is off";

  // plugsim derives both styles' statistics from the same made-up days, so normalised
  // values must agree to the watt-hour.
  json days_a = plugctl_json(floats, {"emeter", "--day=2025-10"})["days"];
  json days_b = plugctl_json(milli, {"emeter", "--day=2025-10"})["days"];
  ASSERT_EQ(days_a.size(), 31u);
  ASSERT_EQ(days_b.size(), 31u);
  for (std::size_t i = 0; i < 31; ++i) {
    EXPECT_NEAR(days_a[i]["energy_kwh"].get<double>(), days_b[i]["energy_kwh"].get<double>(), 1e-9);
  }
  json months = plugctl_json(milli, {"emeter", "--month=2025"})["months"];
  ASSERT_EQ(months.size(), 12u);
  EXPECT_EQ(months[11]["month"], 12);
  CommandResult day_text = plugctl(floats, {"emeter", "--day=2025-10"});
  EXPECT_NE(day_text.out.find("2025-10-31"), std::string::npos) << day_text.out;
}

TEST(PlugctlE2E, StripOutletsByNumberIdAndAlias) {
  PlugsimProcess sim(kPlugsim, {"--device", "HS300:127.0.0.1:0"});
  int port = sim.xor_port();
  EXPECT_EQ(plugctl(port, {"--child", "2", "off"}).exit_code, kOk);
  EXPECT_EQ(plugctl(port, {"--child", "2", "state"}).out, "Power OFF\n");
  EXPECT_EQ(plugctl(port, {"--child", "1", "state"}).out, "Power ON\n") << "only outlet 2 switched";
  EXPECT_EQ(plugctl(port, {"--child", "SCRUBBED_CHILD_DEVICE_ID_2", "state"}).out, "Power OFF\n");
  EXPECT_EQ(plugctl(port, {"--child", "3", "alias", "router"}).exit_code, kOk);
  EXPECT_EQ(plugctl(port, {"--child", "router", "off"}).exit_code, kOk);
  EXPECT_EQ(plugctl_json(port, {"--child", "3", "state"}), json({{"on", false}}));
  EXPECT_EQ(plugctl_json(port, {"--child", "router", "toggle"}), json({{"on", true}}));
  json children = plugctl_json(port, {"info"})["children"];
  ASSERT_EQ(children.size(), 6u);
  EXPECT_EQ(children[1]["on"], false);
  EXPECT_EQ(children[2]["alias"], "router");
  EXPECT_EQ(plugctl_json(port, {"--child", "2", "emeter"})["power_w"].get<double>(), 0.0);
  EXPECT_NEAR(plugctl_json(port, {"--child", "1", "emeter"})["power_w"].get<double>(), 62.43, 1e-9);
  CommandResult none = plugctl(port, {"--child", "7", "state"});
  EXPECT_EQ(none.exit_code, kUsage);
  EXPECT_NE(none.err.find("no outlet '7'"), std::string::npos) << none.err;
}

TEST(PlugctlE2E, KlapStripKp303ByChild) {
  PlugsimProcess sim(kPlugsim, {"--device", "KP303:127.0.0.1:0,xor=off,klap=0,tdp=0"});
  int port = sim.klap_port();
  EXPECT_EQ(plugctl(port, {"--child", "3", "on"}).exit_code, kOk);
  EXPECT_EQ(plugctl(port, {"--transport", "klap", "--child", "3", "state"}).out, "Power ON\n");
  EXPECT_EQ(plugctl(port, {"--child", "1", "state"}).out, "Power OFF\n");
}

class PlugctlKlap : public ::testing::TestWithParam<int> {};

TEST_P(PlugctlKlap, RightCredentialsWorkWrongOnesExitWith4) {
  std::string version = std::to_string(GetParam());
  std::string creds = temp_file("plugctl-e2e-creds", "lab@example.com\nhunter2\n");
  std::string password = temp_file("plugctl-e2e-password", "hunter2\n");
  std::string wrong = temp_file("plugctl-e2e-wrong", "hunter3\n");
  PlugsimProcess sim(
      kPlugsim, {"--device",
                 "HS100@HS100(UK)_4.1_1.1.0:127.0.0.1:0,xor=off,klap=0,tdp=0,session-timeout=2,"
                 "klap-version=" +
                     version + ",credentials=" + creds});
  int port = sim.klap_port();
  std::vector<std::string> login = {"--username", "lab@example.com", "--password-file", password};
  auto with = [&](std::vector<std::string> cmd) {
    cmd.insert(cmd.begin(), login.begin(), login.end());
    return cmd;
  };
  CommandResult on = plugctl(port, with({"on"}));
  EXPECT_EQ(on.exit_code, kOk) << on.err;
  EXPECT_EQ(plugctl(port, with({"state"})).out, "Power ON\n");
  EXPECT_EQ(plugctl(port, with({"--transport", "klap", "--json", "info"})).exit_code, kOk);
  CommandResult env =
      plugctl(port, {"state"}, {"KASA_USERNAME=lab@example.com", "KASA_PASSWORD=hunter2"});
  EXPECT_EQ(env.out, "Power ON\n") << env.err;

  CommandResult bad =
      plugctl(port, {"--username", "lab@example.com", "--password-file", wrong, "state"});
  EXPECT_EQ(bad.exit_code, kAuth) << bad.err;
  EXPECT_FALSE(bad.err.empty());
  CommandResult none = plugctl(port, {"state"});
  EXPECT_EQ(none.exit_code, kAuth)
      << "blank and default credentials are not this device's: " << none.err;
  for (const auto& f : {creds, password, wrong})
    std::filesystem::remove(f);
}

INSTANTIATE_TEST_SUITE_P(Versions, PlugctlKlap, ::testing::Values(1, 2),
                         [](const auto& p) { return "v" + std::to_string(p.param); });

// A TCP server on loopback that answers every connection with fixed bytes, then closes.
class BadPeer {
 public:
  explicit BadPeer(std::string answer) : answer_(std::move(answer)) {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_.get(), 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        UniqueFd c(::accept(fd_.get(), nullptr, nullptr));
        if (!c || stop_) return;
        char buf[512];
        (void)::recv(c.get(), buf, sizeof buf, 0);
        (void)::send(c.get(), answer_.data(), answer_.size(), MSG_NOSIGNAL);
      }
    });
  }
  ~BadPeer() {
    stop_ = true;
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::string answer_;
  UniqueFd fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(PlugctlE2E, UnreachableAndBadRepliesGiveTheirExitCodes) {
  int closed_port = 0;
  {
    BadPeer gone("");
    closed_port = gone.port();
  }
  CommandResult refused =
      run_command({kPlugctl, "-H", host_of(closed_port), "--transport", "xor", "state"});
  EXPECT_EQ(refused.exit_code, kUnreachable) << refused.err;

  std::string garbage_frame = std::string("\x00\x00\x00\x08", 4) + "garbage!";
  BadPeer garbage(garbage_frame);
  CommandResult g = plugctl(garbage.port(), {"--transport", "xor", "state"});
  EXPECT_EQ(g.exit_code, kBadReply) << g.err;

  BadPeer liar(std::string("\x00\x00\x01\x00", 4) + "short");
  CommandResult l = plugctl(liar.port(), {"--transport", "xor", "--timeout", "3", "state"});
  EXPECT_TRUE(l.exit_code == kBadReply || l.exit_code == kUnreachable)
      << l.exit_code << " " << l.err;
  EXPECT_FALSE(l.err.empty());

  BadPeer huge(std::string("\x7f\xff\xff\xff", 4));
  CommandResult h = plugctl(huge.port(), {"--transport", "xor", "state"});
  EXPECT_EQ(h.exit_code, kBadReply) << h.err;
}

// Discovery needs broadcast, which loopback does not carry: the outer test re-runs this
// binary inside a new network namespace with a veth pair on 192.0.2.0/24 (a documentation
// range that exists only inside that namespace), where the inner test runs. Root needs no user
// namespace for that, and kernels refuse one inside a chroot, where newcomers try the suite.
TEST(PlugctlE2E, DiscoverFindsSeveralPlugsimsInANetworkNamespace) {
  const char* unshare_flags = geteuid() == 0 ? "-n" : "-rn";
  ASSERT_EQ(run_command({"unshare", unshare_flags, "true"}).exit_code, 0)
      << "cannot create a network namespace (unshare " << unshare_flags
      << "); this test needs one: run as root or allow unprivileged user namespaces";
  CommandResult inner =
      run_command({"unshare", unshare_flags, kSelf, "--gtest_also_run_disabled_tests",
                   "--gtest_filter=PlugctlE2EInNamespace.DISABLED_Discover"},
                  120s);
  EXPECT_EQ(inner.exit_code, 0) << inner.out << inner.err;
  EXPECT_NE(inner.out.find("[  PASSED  ] 1 test"), std::string::npos) << inner.out;
}

TEST(PlugctlE2EInNamespace, DISABLED_Discover) {
  for (const char* cmd :
       {"ip link set lo up", "ip link add v0 type veth peer name v1",
        "ip addr add 192.0.2.10/24 brd + dev v0", "ip addr add 192.0.2.11/24 brd + dev v0",
        "ip addr add 192.0.2.12/24 brd + dev v0", "ip link set v0 up", "ip link set v1 up"}) {
    CommandResult r = run_command({"/bin/sh", "-c", cmd});
    ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
  }
  PlugsimProcess a(kPlugsim, {"--device", "HS110:192.0.2.10:9999"});
  PlugsimProcess b(kPlugsim, {"--device", "KP303:192.0.2.11:9999"});
  PlugsimProcess c(kPlugsim,
                   {"--device", "HS100@HS100(UK)_4.1_1.1.0:192.0.2.12:9999,xor=off,klap=80"});
  CommandResult r =
      run_command({kPlugctl, "discover", "--target", "192.0.2.255", "--timeout", "2", "--json"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  json found = json::parse(r.out);
  ASSERT_EQ(found.size(), 3u) << r.out;
  std::map<std::string, json> by_ip;
  for (const auto& d : found)
    by_ip[d["ip"]] = d;
  EXPECT_EQ(by_ip["192.0.2.10"]["model"], "HS110(EU)");
  EXPECT_EQ(by_ip["192.0.2.10"]["mac"], a.devices()[0]["mac"]);
  EXPECT_EQ(by_ip["192.0.2.10"]["transport"], "xor");
  EXPECT_EQ(by_ip["192.0.2.11"]["model"], "KP303(UK)");
  EXPECT_EQ(by_ip["192.0.2.12"]["model"], "HS100(UK)");
  EXPECT_EQ(by_ip["192.0.2.12"]["transport"], "klap");
  EXPECT_EQ(by_ip["192.0.2.12"]["port"], 80);
  CommandResult text =
      run_command({kPlugctl, "discover", "--target", "192.0.2.255", "--timeout", "1"});
  EXPECT_NE(text.out.find("192.0.2.11"), std::string::npos) << text.out;
  EXPECT_EQ(run_command({kPlugctl, "-H", "192.0.2.11", "--child", "2", "on"}).exit_code, kOk);
  EXPECT_EQ(run_command({kPlugctl, "-H", "192.0.2.11", "--child", "2", "state"}).out, "Power ON\n");
}

}  // namespace
}  // namespace crossrig::plugsim
