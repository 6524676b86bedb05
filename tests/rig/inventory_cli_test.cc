// rig boards and rig check-inventory as a user runs them: the real binary, real files.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/rig/inventory_fixture.h"

namespace crossrig::rig::testing {
namespace {

using nlohmann::json;

const std::string kExample = CROSSRIG_SOURCE_DIR "/rig/inventory/examples/lab.yaml";

std::string one_board(const std::string& name, const std::string& arch) {
  return "boards:\n  " + name + ":\n    arch: " + arch +
         "\n    boot: ipxe\n    power: {driver: hs100, address: 127.0.0.1}\n";
}

TEST(RigInventoryCli, HelpAndUnknownCommand) {
  auto help = rig({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* c : {"boards", "check-inventory", "power"}) {
    EXPECT_NE(help.out.find(c), std::string::npos) << c;
  }
  EXPECT_EQ(rig({"boards", "--help"}).exit_code, 0);
  EXPECT_NE(rig({"check-inventory", "--help"}).out.find("Exit codes"), std::string::npos);
  auto unknown = rig({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_EQ(rig({"boards", "--bogus"}).exit_code, 2);
}

TEST(RigInventoryCli, BoardsListsTheExampleLab) {
  auto r = rig({"boards", "--inventory", kExample});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cell-qs22  ppc64    slof          hs100 192.168.50.21"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rpi4       aarch64  uboot         hs100 192.168.50.30 outlet 3"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("z-guest    s390x    s390-netboot  command"), std::string::npos) << r.out;
}

TEST(RigInventoryCli, BoardsJson) {
  auto r = rig({"boards", "--json", "--inventory", kExample});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["inventory"], std::filesystem::canonical(kExample).string());
  ASSERT_EQ(j["boards"].size(), 3u);
  EXPECT_EQ(j["boards"][0]["name"], "cell-qs22");
  EXPECT_EQ(j["boards"][0]["arch"], "ppc64");
  EXPECT_EQ(j["boards"][0]["console"], "192.168.50.2:7001");
  EXPECT_EQ(j["boards"][0]["job"]["cmdline"], "console=hvc0");
  EXPECT_TRUE(j["boards"][1]["job"].is_null());
  EXPECT_EQ(j["boards"][1]["power"], json({{"driver", "hs100"},
                                           {"address", "192.168.50.30"},
                                           {"outlet", "3"},
                                           {"transport", "klap"}}));
  EXPECT_EQ(j["boards"][1]["power"].count("password_file"), 0u);
  EXPECT_EQ(j["boards"][2]["arch"], "s390x");
  EXPECT_EQ(j["boards"][2]["boot"], "s390-netboot");
}

TEST(RigInventoryCli, CheckInventoryReportsEveryProblemWithItsLine) {
  ScratchDir dir("rig-inv");
  std::string bad = dir.write("bad.yaml",
                              "boards:\n"
                              "  a:\n"
                              "    arch: arm64\n"
                              "    boot: uboot\n"
                              "    power: {driver: hs100, address: 10.0.0.1}\n"
                              "    mac: 02:00:00:00:00:01\n"
                              "  b:\n"
                              "    arch: x86_64\n"
                              "    boot: pxe\n"
                              "    power: {driver: hs100, address: 10.0.0.2}\n"
                              "    mac: 02:00:00:00:00:01\n"
                              "    colour: red\n");
  auto r = rig({"check-inventory", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find(bad + ":3: board 'a': arch: unknown arch 'arm64'"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(bad + ":9: board 'b': boot: unknown boot method 'pxe'"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(bad + ":11: board 'b': mac: 02:00:00:00:00:01 is also board 'a''s"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(bad + ":12: board 'b': colour: unknown field"), std::string::npos) << r.err;

  auto j = rig({"check-inventory", "--json", bad});
  EXPECT_EQ(j.exit_code, 2);
  json parsed = json::parse(j.out);
  EXPECT_EQ(parsed["valid"], false);
  EXPECT_EQ(parsed["problems"].size(), 4u);

  auto good = rig({"check-inventory", kExample});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("3 boards, valid"), std::string::npos);
  EXPECT_EQ(rig({"check-inventory", dir.file("missing.yaml")}).exit_code, 2);
  EXPECT_EQ(rig({"check-inventory"}).exit_code, 2);
}

TEST(RigInventoryCli, LookupOrder) {
  ScratchDir dir("rig-lookup");
  std::string flag = dir.write("flag.yaml", one_board("from-flag", "x86_64"));
  std::string lab = dir.write("lab.yaml", one_board("from-lab", "ppc64le"));
  std::string env = dir.write("env.yaml", one_board("from-env", "s390x"));
  dir.write("inventory.yaml", one_board("from-cwd", "aarch64"));
  std::filesystem::create_directories(dir.path() / "run" / "rig");
  std::string xdg = "XDG_RUNTIME_DIR=" + dir.file("run");
  std::string rig_env = "RIG_INVENTORY=" + env;

  // Each run is in the scratch directory, so ./inventory.yaml is there.
  auto boards = [&](std::vector<std::string> extra, std::vector<std::string> environment) {
    extra.insert(extra.begin(), "boards");
    return rig(extra, environment, dir.path().string());
  };
  EXPECT_NE(boards({}, {}).out.find("from-cwd"), std::string::npos);
  EXPECT_NE(boards({}, {rig_env}).out.find("from-env"), std::string::npos);
  dir.write("run/rig/lab-inventory", lab + "\n");
  EXPECT_NE(boards({}, {rig_env, xdg}).out.find("from-lab"), std::string::npos);
  EXPECT_NE(boards({"--inventory", flag}, {rig_env, xdg}).out.find("from-flag"), std::string::npos);

  std::filesystem::remove(dir.file("inventory.yaml"));
  auto none = boards({}, {});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no inventory file here"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace crossrig::rig::testing
