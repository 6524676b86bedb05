// rig power against real plugs: plugsim processes on loopback, the command driver with real
// shell commands, and small loopback peers that never answer or that lie about their relay.

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "plugctl/loopback_peer.h"
#include "tests/rig/inventory_fixture.h"

namespace crossrig::rig::testing {
namespace {

using crossrig::plugsim::CommandResult;
using crossrig::plugsim::PlugsimProcess;
using nlohmann::json;

const std::string kPlugsim = CROSSRIG_BINARY_DIR "/bin/plugsim";
const std::string kPlugctl = CROSSRIG_BINARY_DIR "/bin/plugctl";

constexpr int kOk = 0, kFailed = 1, kUsage = 2, kUnreachable = 3, kAuth = 4;

std::string loopback(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

// An inventory with one board "b" whose power section holds power_lines (indented 6).
std::string inventory(const std::string& power_lines, const std::string& board_lines = "") {
  return "boards:\n  b:\n    arch: ppc64\n    boot: slof\n    mac: 02:00:00:00:00:01\n" +
         board_lines + "    power:\n" + power_lines;
}

// Plugsim's own view of a relay, through plugctl (another client than rig).
bool plug_on(int port, const std::string& child = "") {
  std::vector<std::string> argv{kPlugctl, "-H", loopback(port), "--json"};
  if (!child.empty()) argv.insert(argv.end(), {"--child", child});
  argv.push_back("state");
  CommandResult r = crossrig::plugsim::run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out, nullptr, false).value("on", false);
}

// Records every relay switch plugsim makes, as "OUTLET STATE" lines.
std::vector<std::string> on_change_log(const ScratchDir& dir, const std::string& device) {
  return {"--device", device, "--on-change",
          "echo \"$PLUGSIM_OUTLET $PLUGSIM_STATE\" >> '" + dir.file("switches.log") + "'"};
}

// The switch log once it holds `lines` lines: plugsim runs --on-change commands in the
// background, so the last one may still be writing when rig returns.
std::string switches(const ScratchDir& dir, std::size_t lines) {
  std::string log;
  for (int i = 0; i < 500; ++i) {
    log = dir.read("switches.log");
    if (static_cast<std::size_t>(std::count(log.begin(), log.end(), '\n')) >= lines) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return log;
}

class RigPowerHs100 : public ::testing::Test {
 protected:
  ScratchDir dir_{"rig-power"};
  std::string write_inventory(const std::string& power_lines, const std::string& board_lines = "") {
    return dir_.write("inventory.yaml", inventory(power_lines, board_lines));
  }
};

TEST_F(RigPowerHs100, EachVerbOnAPlug) {
  PlugsimProcess sim(kPlugsim, on_change_log(dir_, "HS100:127.0.0.1:0"));
  std::string inv =
      write_inventory("      driver: hs100\n      address: " + loopback(sim.xor_port()) + "\n");
  CommandResult on = rig({"power", "b", "on", "--inventory", inv});
  EXPECT_EQ(on.exit_code, kOk) << on.err;
  EXPECT_EQ(on.out, "b: power ON\n");
  EXPECT_TRUE(plug_on(sim.xor_port()));

  CommandResult state = rig({"power", "b", "state", "--json", "--inventory", inv});
  EXPECT_EQ(state.exit_code, kOk) << state.err;
  EXPECT_EQ(json::parse(state.out),
            json({{"board", "b"}, {"action", "state"}, {"on", true}, {"driver", "hs100"}}));

  CommandResult off = rig({"power", "b", "off", "--json", "--inventory", inv});
  EXPECT_EQ(off.exit_code, kOk) << off.err;
  EXPECT_EQ(json::parse(off.out)["on"], false);
  EXPECT_FALSE(plug_on(sim.xor_port()));
  EXPECT_EQ(rig({"power", "b", "state", "--inventory", inv}).out, "b: power OFF\n");

  CommandResult cycle = rig({"power", "b", "cycle", "--off-time", "0.2", "--inventory", inv});
  EXPECT_EQ(cycle.exit_code, kOk) << cycle.err;
  EXPECT_TRUE(plug_on(sim.xor_port()));
  // on, off (already off: no switch), then cycle's off (no switch) and on.
  EXPECT_EQ(switches(dir_, 3), "1 on\n1 off\n1 on\n");
}

TEST_F(RigPowerHs100, CycleSwitchesOffThenOnFromOn) {
  PlugsimProcess sim(kPlugsim, on_change_log(dir_, "HS100:127.0.0.1:0"));
  std::string inv =
      write_inventory("      driver: hs100\n      address: " + loopback(sim.xor_port()) + "\n",
                      "    off_time: 0.1\n");
  ASSERT_EQ(rig({"power", "b", "on", "--inventory", inv}).exit_code, kOk);
  CommandResult cycle = rig({"power", "b", "cycle", "--json", "--inventory", inv});
  EXPECT_EQ(cycle.exit_code, kOk) << cycle.err;
  EXPECT_EQ(json::parse(cycle.out)["on"], true);
  EXPECT_EQ(switches(dir_, 3), "1 on\n1 off\n1 on\n");
}

TEST_F(RigPowerHs100, StripOutletByChildLeavesTheOthersAlone) {
  PlugsimProcess sim(kPlugsim, on_change_log(dir_, "HS300:127.0.0.1:0"));
  int port = sim.xor_port();
  std::vector<bool> before;
  for (int i = 1; i <= 6; ++i)
    before.push_back(plug_on(port, std::to_string(i)));
  std::string inv = write_inventory("      driver: hs100\n      address: " + loopback(port) +
                                    "\n      outlet: 3\n");
  bool start = before[2];
  CommandResult first = rig({"power", "b", start ? "off" : "on", "--inventory", inv});
  EXPECT_EQ(first.exit_code, kOk) << first.err;
  EXPECT_EQ(plug_on(port, "3"), !start);
  CommandResult cycle = rig({"power", "b", "cycle", "--off-time", "0", "--inventory", inv});
  EXPECT_EQ(cycle.exit_code, kOk) << cycle.err;
  EXPECT_TRUE(plug_on(port, "3"));
  for (int i = 1; i <= 6; ++i) {
    if (i == 3) continue;
    EXPECT_EQ(plug_on(port, std::to_string(i)), before[i - 1]) << "outlet " << i;
  }
  // From on: off, then cycle's on (its off finds it off); from off: on, off, on.
  std::string log = switches(dir_, start ? 2 : 3);
  EXPECT_EQ(log, start ? "3 off\n3 on\n" : "3 on\n3 off\n3 on\n");
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.substr(0, 2), "3 ") << "outlet other than 3 switched: " << log;
  }
}

TEST_F(RigPowerHs100, KlapWithCredentialsFromTheInventoryAndEnvironment) {
  std::string account = dir_.write("account", "lab@example.com\nhunter2\n");
  std::string password = dir_.write("password", "hunter2\n");
  std::string wrong = dir_.write("wrong", "hunter3\n");
  PlugsimProcess sim(kPlugsim, {"--device",
                                "HS100@HS100(UK)_4.1_1.1.0:127.0.0.1:0,xor=off,"
                                "klap=0,tdp=0,credentials=" +
                                    account});
  std::string address =
      "      driver: hs100\n      transport: klap\n      address: " + loopback(sim.klap_port()) +
      "\n";
  std::string inv = write_inventory(address + "      username: lab@example.com\n" +
                                    "      password_file: " + password + "\n");
  CommandResult on = rig({"power", "b", "on", "--inventory", inv});
  EXPECT_EQ(on.exit_code, kOk) << on.err;
  CommandResult cycle = rig({"power", "b", "cycle", "--off-time", "0", "--inventory", inv});
  EXPECT_EQ(cycle.exit_code, kOk) << cycle.err;

  std::string bare = write_inventory(address);
  CommandResult env = rig({"power", "b", "state", "--inventory", bare},
                          {"KASA_USERNAME=lab@example.com", "KASA_PASSWORD=hunter2"});
  EXPECT_EQ(env.exit_code, kOk) << env.err;
  EXPECT_EQ(env.out, "b: power ON\n");

  std::string bad = write_inventory(address + "      username: lab@example.com\n" +
                                    "      password_file: " + wrong + "\n");
  CommandResult refused = rig({"power", "b", "off", "--inventory", bad});
  EXPECT_EQ(refused.exit_code, kAuth) << refused.err;
  EXPECT_NE(refused.err.find("board 'b'"), std::string::npos) << refused.err;
}

TEST_F(RigPowerHs100, UnreachablePlugExits3NamingTheBoard) {
  int port;
  {
    // A port that was just free: nothing listens there once the peer is gone.
    crossrig::plugctl::testing::LoopbackPeer gone([](int, const auto&) {});
    port = gone.port();
  }
  std::string inv = write_inventory(
      "      driver: hs100\n      transport: xor\n      address: " + loopback(port) + "\n");
  CommandResult r = rig({"power", "b", "on", "--inventory", inv});
  EXPECT_EQ(r.exit_code, kUnreachable) << r.err;
  EXPECT_NE(r.err.find("board 'b': hs100 plug: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
}

TEST_F(RigPowerHs100, SilentPlugTimesOutWithExit3) {
  crossrig::plugctl::testing::LoopbackPeer silent([](int fd, const auto& peer) {
    std::string ignored;
    while (peer.wait_readable(fd) && peer.read_some(fd, ignored) > 0) {
    }
  });
  std::string inv = write_inventory(
      "      driver: hs100\n      transport: xor\n      timeout: 1\n"
      "      address: " +
      silent.address() + "\n");
  CommandResult r = rig({"power", "b", "state", "--inventory", inv});
  EXPECT_EQ(r.exit_code, kUnreachable) << r.err;
  EXPECT_NE(r.err.find("board 'b'"), std::string::npos) << r.err;
  CommandResult flag = rig({"power", "b", "off", "--timeout", "0.5", "--inventory", inv});
  EXPECT_EQ(flag.exit_code, kUnreachable) << flag.err;
}

TEST_F(RigPowerHs100, PlugThatLiesAboutItsRelayIsAnError) {
  // Accepts every switch and always reports the relay off.
  crossrig::plugctl::testing::XorDevice liar([](const json& request) -> json {
    if (request["system"].contains("set_relay_state")) {
      return {{"system", {{"set_relay_state", {{"err_code", 0}}}}}};
    }
    return {{"system",
             {{"get_sysinfo",
               {{"err_code", 0}, {"relay_state", 0}, {"model", "HS100(US)"}, {"alias", "liar"}}}}}};
  });
  crossrig::plugctl::testing::LoopbackPeer peer(std::ref(liar));
  std::string inv = write_inventory(
      "      driver: hs100\n      transport: xor\n      confirm_attempts: 3\n"
      "      confirm_interval: 0.05\n      address: " +
      peer.address() + "\n");
  CommandResult r = rig({"power", "b", "on", "--inventory", inv});
  EXPECT_EQ(r.exit_code, kFailed) << r.err;
  EXPECT_NE(r.err.find("board 'b': switched on but hs100 " + peer.address() +
                       " still read off after 3 reads"),
            std::string::npos)
      << r.err;
  {
    std::lock_guard lock(liar.mutex);
    EXPECT_EQ(liar.requests.size(), 4u) << "one switch and three reads";
  }
  CommandResult off = rig({"power", "b", "off", "--inventory", inv});
  EXPECT_EQ(off.exit_code, kOk) << "it does read off: " << off.err;
}

TEST(RigPowerCli, UsageErrors) {
  ScratchDir dir("rig-power-usage");
  std::string inv =
      dir.write("inventory.yaml", inventory("      driver: hs100\n      address: 127.0.0.1\n"));
  EXPECT_EQ(rig({"power", "--help"}).exit_code, kOk);
  EXPECT_NE(rig({"power", "--help"}).out.find("Exit codes"), std::string::npos);
  CommandResult none = rig({"power", "nosuch", "on", "--inventory", inv});
  EXPECT_EQ(none.exit_code, kUsage);
  EXPECT_NE(none.err.find("no board 'nosuch'"), std::string::npos) << none.err;
  CommandResult verb = rig({"power", "b", "explode", "--inventory", inv});
  EXPECT_EQ(verb.exit_code, kUsage);
  EXPECT_NE(verb.err.find("unknown action 'explode'"), std::string::npos) << verb.err;
  EXPECT_EQ(rig({"power", "b"}).exit_code, kUsage);
  EXPECT_EQ(rig({"power", "b", "cycle", "--off-time", "x", "--inventory", inv}).exit_code, kUsage);
}

class RigPowerCommand : public ::testing::Test {
 protected:
  ScratchDir dir_{"rig-power-cmd"};
  // A PDU whose state is a file: on/off write it, state prints it.
  std::string pdu(const std::string& state_lines) {
    dir_.write("relay", "OFF\n");
    return dir_.write(
        "inventory.yaml",
        inventory("      driver: command\n      address: " + dir_.file("relay") +
                  "\n      outlet: 4\n"
                  "      on: echo ON > {address}; echo {name} {outlet} >> "
                  "{address}.calls\n"
                  "      off: echo OFF > {address}\n" +
                  state_lines + "      confirm_attempts: 2\n" + "      confirm_interval: 0.05\n"));
  }
};

TEST_F(RigPowerCommand, PatternsReadTheStateOutput) {
  std::string inv =
      pdu("      state: cat {address}\n      on_pattern: ^ON$\n      off_pattern: ^OFF$\n");
  EXPECT_EQ(rig({"power", "b", "state", "--inventory", inv}).out, "b: power OFF\n");
  CommandResult on = rig({"power", "b", "on", "--json", "--inventory", inv});
  EXPECT_EQ(on.exit_code, kOk) << on.err;
  EXPECT_EQ(json::parse(on.out)["driver"], "command");
  EXPECT_EQ(dir_.read("relay"), "ON\n");
  EXPECT_EQ(dir_.read("relay.calls"), "b 4\n") << "fields substituted";
  CommandResult cycle = rig({"power", "b", "cycle", "--off-time", "0", "--inventory", inv});
  EXPECT_EQ(cycle.exit_code, kOk) << cycle.err;
  EXPECT_EQ(dir_.read("relay.calls"), "b 4\nb 4\n");
  EXPECT_EQ(rig({"power", "b", "off", "--inventory", inv}).exit_code, kOk);
  EXPECT_EQ(dir_.read("relay"), "OFF\n");
  dir_.write("relay", "REBOOTING\n");
  CommandResult neither = rig({"power", "b", "state", "--inventory", inv});
  EXPECT_EQ(neither.exit_code, kFailed);
  EXPECT_NE(neither.err.find("'REBOOTING', which matches neither"), std::string::npos)
      << neither.err;
}

TEST_F(RigPowerCommand, ExitCodeReadsTheState) {
  std::string inv = pdu("      state: grep -qx ON {address}\n");
  EXPECT_EQ(rig({"power", "b", "state", "--inventory", inv}).out, "b: power OFF\n");
  EXPECT_EQ(rig({"power", "b", "on", "--inventory", inv}).exit_code, kOk);
  EXPECT_EQ(rig({"power", "b", "state", "--inventory", inv}).out, "b: power ON\n");
}

TEST_F(RigPowerCommand, PduThatDoesNotSwitchIsAnError) {
  std::string inv = pdu("      state: echo OFF\n      on_pattern: ^ON$\n");
  CommandResult r = rig({"power", "b", "on", "--inventory", inv});
  EXPECT_EQ(r.exit_code, kFailed);
  EXPECT_NE(r.err.find("board 'b': switched on but command driver still read off after 2 reads"),
            std::string::npos)
      << r.err;
}

TEST_F(RigPowerCommand, FailingAndHungCommands) {
  dir_.write("relay", "OFF\n");
  std::string inv = dir_.write(
      "inventory.yaml", inventory("      driver: command\n      timeout: 0.5\n"
                                  "      on: exit 7\n      off: sleep 30\n      state: exit 1\n"));
  CommandResult failed = rig({"power", "b", "on", "--inventory", inv});
  EXPECT_EQ(failed.exit_code, kFailed);
  EXPECT_NE(failed.err.find("board 'b': the power on command exited with 7"), std::string::npos)
      << failed.err;
  CommandResult hung = rig({"power", "b", "off", "--inventory", inv});
  EXPECT_EQ(hung.exit_code, kUnreachable);
  EXPECT_NE(hung.err.find("board 'b': the power off command ran past 500 ms"), std::string::npos)
      << hung.err;
}

}  // namespace
}  // namespace crossrig::rig::testing
