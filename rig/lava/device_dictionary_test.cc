#include "rig/lava/device_dictionary.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <regex>

#include "rig/lava/lava_test_support.h"

namespace crossrig::rig::lava {
namespace {

Board plug_board() {
  Board b = testing::rpi4_board();
  b.mac = "dc:a6:32:01:02:03";
  b.off_time_s = 2;
  b.line = 25;
  return b;
}

Board command_board() {
  Board b;
  b.name = "z-guest";
  b.arch = Arch::kS390x;
  b.boot = BootMethod::kS390Netboot;
  b.power = {"command",
             {{"address", "pdu1.lab"},
              {"outlet", "7"},
              {"on", "pdu-ctl --host {address} --outlet {outlet} on"},
              {"off", "pdu-ctl --host {address} --outlet {outlet} off"},
              {"state", "pdu-ctl --host {address} --outlet {outlet} status"}}};
  b.console = "[fd00::2]:7003";
  b.off_time_s = 0.5;
  return b;
}

// The value each `{% set NAME = '...' %}` line gives NAME, as Jinja reads the literal.
std::map<std::string, std::string> settings(const std::string& dictionary) {
  std::map<std::string, std::string> out;
  std::regex set(R"re(\{% set (\w+) = (?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)") %\})re");
  for (std::sregex_iterator it(dictionary.begin(), dictionary.end(), set), end; it != end; ++it) {
    std::string literal = (*it)[2].matched ? (*it)[2] : (*it)[3], value;
    for (std::size_t i = 0; i < literal.size(); ++i) {
      if (literal[i] == '\\') ++i;
      value += literal[i];
    }
    out[(*it)[1]] = value;
  }
  return out;
}

TEST(PowerCommands, PlugIsSwitchedWithPlugctl) {
  auto c = std::get<PowerCommands>(power_commands(plug_board()));
  EXPECT_EQ(c.on, "plugctl -H 192.168.50.30 on");
  EXPECT_EQ(c.off, "plugctl -H 192.168.50.30 off");
  EXPECT_EQ(c.reset, (std::vector<std::string>{"plugctl -H 192.168.50.30 off", "sleep 2",
                                               "plugctl -H 192.168.50.30 on"}));
}

TEST(PowerCommands, StripOutletTransportAndAccountBecomePlugctlFlags) {
  Board b = plug_board();
  b.power.settings.insert({{"outlet", "Plug 3"},
                           {"transport", "klap"},
                           {"username", "lab@example.com"},
                           {"password_file", "/etc/rig/kasa-password"},
                           {"timeout", "8"}});
  auto c = std::get<PowerCommands>(power_commands(b));
  EXPECT_EQ(c.on,
            "plugctl -H 192.168.50.30 --transport klap --child 'Plug 3' --username "
            "lab@example.com --password-file /etc/rig/kasa-password --timeout 8 on");
}

TEST(PowerCommands, CommandDriverRunsTheBoardsCommandsUnderAShell) {
  auto c = std::get<PowerCommands>(power_commands(command_board()));
  EXPECT_EQ(c.on, "sh -c 'pdu-ctl --host '\\''pdu1.lab'\\'' --outlet '\\''7'\\'' on'");
  EXPECT_EQ(c.reset[1], "sleep 0.5");
  EXPECT_EQ(c.reset[2], c.on);
}

TEST(PowerCommands, PlaceholderTheBoardLacksIsAProblemNamingTheField) {
  Board b = command_board();
  b.power.settings["off"] = "pdu-ctl {mac} off";
  auto problem = std::get<std::string>(power_commands(b));
  EXPECT_EQ(problem.rfind("power.off: ", 0), 0u) << problem;
  EXPECT_NE(problem.find("{mac}"), std::string::npos) << problem;
}

TEST(ConnectionCommand, ConsoleIsReachedWithTelnet) {
  EXPECT_EQ(std::get<0>(connection_command(plug_board())), "telnet 192.168.50.2 7002");
  EXPECT_EQ(std::get<0>(connection_command(command_board())), "telnet fd00::2 7003");
}

TEST(ConnectionCommand, MissingConsoleOrPortIsAProblem) {
  Board b = plug_board();
  b.console.reset();
  EXPECT_EQ(std::get<1>(connection_command(b)).rfind("console: ", 0), 0u);
  b.console = "serial-server";
  EXPECT_NE(std::get<1>(connection_command(b)).find("HOST:PORT"), std::string::npos);
}

TEST(DeviceDictionary, ExtendsTheBoardsTypeAndSetsConsoleAndPower) {
  auto text = std::get<std::string>(device_dictionary(plug_board(), "/lab/inventory.yaml"));
  EXPECT_NE(text.find("{% extends 'crossrig-uboot.jinja2' %}\n"), std::string::npos) << text;
  EXPECT_NE(text.find("/lab/inventory.yaml line 25"), std::string::npos) << text;
  auto s = settings(text);
  EXPECT_EQ(s["connection_command"], "telnet 192.168.50.2 7002");
  EXPECT_EQ(s["power_on_command"], "plugctl -H 192.168.50.30 on");
  EXPECT_EQ(s["power_off_command"], "plugctl -H 192.168.50.30 off");
  EXPECT_EQ(s["device_mac"], "dc:a6:32:01:02:03");
  EXPECT_EQ(s["uboot_mkimage_arch"], "arm64");
  YAML::Node reset = YAML::Load("hard_reset: " + s["hard_reset_command"])["hard_reset"];
  ASSERT_TRUE(reset.IsSequence());
  EXPECT_EQ(reset[1].as<std::string>(), "sleep 2");
}

TEST(DeviceDictionary, ValuesReadBackUnchangedThroughJinjaAndYaml) {
  auto text = std::get<std::string>(device_dictionary(command_board(), "inventory.yaml"));
  EXPECT_NE(text.find("{% extends 'crossrig-s390-netboot.jinja2' %}\n"), std::string::npos);
  EXPECT_EQ(text.find("uboot_mkimage_arch"), std::string::npos);
  auto s = settings(text);
  auto c = std::get<PowerCommands>(power_commands(command_board()));
  EXPECT_EQ(YAML::Load("k: " + s["power_on_command"])["k"].as<std::string>(), c.on);
  EXPECT_EQ(YAML::Load("k: " + s["power_off_command"])["k"].as<std::string>(), c.off);
  YAML::Node reset = YAML::Load("k: " + s["hard_reset_command"])["k"];
  ASSERT_EQ(reset.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(reset[i].as<std::string>(), c.reset[i]);
}

TEST(DeviceDictionary, EveryProblemIsReported) {
  Board b = plug_board();
  b.console.reset();
  b.power.driver = "carrier-pigeon";
  auto problems = std::get<std::vector<std::string>>(device_dictionary(b, "inventory.yaml"));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].rfind("power.driver: ", 0), 0u) << problems[0];
  EXPECT_EQ(problems[1].rfind("console: ", 0), 0u) << problems[1];
}

}  // namespace
}  // namespace crossrig::rig::lava
