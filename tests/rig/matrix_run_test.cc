// rig matrix and rig nightly end to end: the rig binary runs the jobs of emulated boards of three
// arches (command power on relay files, consoles playing boot scripts) over several nights, and
// the reports are checked with their readers' tools: KCIDB's schema, python's XML parser and the
// page as headless Chromium renders it.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/rig/emulated_board.h"
#include "tests/rig/inventory_fixture.h"

namespace crossrig::rig::testing {
namespace {

namespace fs = std::filesystem;
using crossrig::plugsim::CommandResult;
using nlohmann::json;

constexpr int kOk = 0, kRegressed = 1, kUsage = 2;

struct BoardSpec {
  std::string name, arch, boot;
};
const BoardSpec kBoards[] = {
    {"cell", "ppc64", "slof"}, {"arm", "aarch64", "uboot"}, {"x86", "x86_64", "ipxe"}};

// A boot that reports uname, ckpt/restore_threads (passing or not) and a measured dump rate.
std::vector<std::string> boot(bool threads_pass, double rate) {
  return {"firmware banner",
          "[    0.000000] Linux version 6.1.0 (gcc 12) #1 SMP",
          "<LAVA_SIGNAL_STARTRUN 0_smoke 1>",
          "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=uname RESULT=pass>",
          std::string("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/restore_threads RESULT=") +
              (threads_pass ? "pass>" : "fail>"),
          "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_dump_rate_64MiB RESULT=pass "
          "MEASUREMENT=" +
              std::to_string(rate) + " UNITS=MiB/s>",
          "<LAVA_SIGNAL_ENDRUN 0_smoke 1>"};
}

class RigMatrix : public ::testing::Test {
 protected:
  ScratchDir dir_{"rig-matrix"};
  std::string results_ = dir_.file("results");
  // The payloads' checkout: a git repository of its own, so the night's source is known.
  std::string commit_;
  std::string source_ = make_checkout();

  std::string make_checkout() {
    const std::string repo = dir_.file("payloads");
    std::filesystem::create_directories(repo);
    dir_.write("payloads/smoke.c", "int main(void) { return 0; }\n");
    const CommandResult git = crossrig::plugsim::run_command(
        {"/bin/sh", "-c",
         "cd " + repo +
             " && git init -q -b main && git add smoke.c && git -c user.name=t -c "
             "user.email=t@example.org commit -q -m payload && git rev-parse HEAD"});
    commit_ = git.out.substr(0, 40);
    return repo;
  }

  // Runs one night: each board plays its boot (by name; a board not named passes), through an
  // inventory whose consoles are this night's emulated boards.
  CommandResult night(const std::string& date,
                      std::map<std::string, std::vector<std::string>> boots,
                      std::vector<std::string> extra = {}, const std::string& command = "matrix") {
    std::vector<std::unique_ptr<EmulatedBoard>> boards;
    std::string yaml = "boards:\n";
    for (const auto& b : kBoards) {
      const std::string relay = dir_.write("relay-" + b.name, "OFF\n");
      const auto it = boots.find(b.name);
      boards.push_back(std::make_unique<EmulatedBoard>(
          relay,
          std::vector<std::vector<std::string>>{it != boots.end() ? it->second : boot(true, 100)}));
      fs::create_directories(dir_.file("tftp-" + b.name));
      const std::string kernel = dir_.write("vmlinux-" + b.name, "kernel of " + b.name + date);
      dir_.write("ramdisk-" + b.name, "ramdisk");
      yaml += "  " + b.name + ":\n    arch: " + b.arch + "\n    boot: " + b.boot +
              "\n    console: " + boards.back()->console() +
              "\n    tftp_dir: " + dir_.file("tftp-" + b.name) +
              "\n    off_time: 0\n    job:\n      kernel: " + kernel +
              "\n      ramdisk: " + dir_.file("ramdisk-" + b.name) +
              "\n    power:\n      driver: command\n      address: " + relay +
              "\n      on: echo ON > {address} && echo on >> {address}.ons\n"
              "      off: echo OFF > {address}\n      state: grep -qx ON {address}\n"
              "      confirm_interval: 0.05\n";
    }
    const std::string inventory = dir_.write("inventory.yaml", yaml);
    std::vector<std::string> argv = {"/usr/bin/env",
                                     "-u",
                                     "RIG_INVENTORY",
                                     "XDG_RUNTIME_DIR=/nonexistent-rig-test",
                                     "RIG_LOCK_DIR=" + dir_.file("locks"),
                                     kRig,
                                     command,
                                     "--inventory",
                                     inventory,
                                     "--results",
                                     results_,
                                     "--date",
                                     date,
                                     "--timeout",
                                     "60",
                                     "--source",
                                     source_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return crossrig::plugsim::run_command(argv, std::chrono::seconds(240));
  }

  json results(const std::string& date) {
    std::ifstream in(results_ + "/" + date + "/results.json");
    return json::parse(in);
  }

  // Runs a checker script of tests/rig on a file; its output is the failure message.
  CommandResult check(const std::vector<std::string>& args) {
    return crossrig::plugsim::run_command(args, std::chrono::seconds(120));
  }

  std::string script(const std::string& name) {
    return std::string(CROSSRIG_SOURCE_DIR) + "/tests/rig/" + name;
  }
};

TEST_F(RigMatrix, AFirstNightRunsEveryBoardAndWritesEveryReport) {
  const CommandResult r = night("2026-12-01", {}, {"--parallel", "3"});
  ASSERT_EQ(r.exit_code, kOk) << r.out << r.err;
  const std::string night = results_ + "/2026-12-01";
  for (const char* f : {"results.json", "junit.xml", "kcidb.json", "report.html",
                        "cell/console.log", "arm/results.json", "x86/console.log"}) {
    EXPECT_TRUE(fs::is_regular_file(night + "/" + f)) << f;
  }
  const json n = results("2026-12-01");
  ASSERT_EQ(n["boards"].size(), 3u);
  for (const auto& b : n["boards"]) {
    EXPECT_EQ(b["result"], "pass") << b.dump();
    EXPECT_EQ(b["tests"].size(), 3u) << b.dump();
    EXPECT_EQ(b["console_log"], b["board"].get<std::string>() + "/console.log");
    EXPECT_TRUE(b["times"]["firmware"].is_number()) << b.dump();
    EXPECT_EQ(b["kernel_sha256"].get<std::string>().size(), 64u);
  }
  ASSERT_EQ(commit_.size(), 40u) << "git could not make the payloads' checkout";
  EXPECT_EQ(n["source"]["commit"], commit_);
  EXPECT_EQ(n["source"]["branch"], "main");
  EXPECT_NE(r.err.find("[3/3] "), std::string::npos) << "progress per job: " << r.err;
  EXPECT_NE(r.out.find("9 passed, 0 failed"), std::string::npos) << r.out;

  const CommandResult kcidb =
      check({"/usr/bin/python3", script("check_kcidb.py"),
             script("fixtures/kcidb/kcidb-v5.3.schema.json"), night + "/kcidb.json"});
  EXPECT_EQ(kcidb.exit_code, 0) << kcidb.out << kcidb.err;
  const CommandResult junit =
      check({"/usr/bin/python3", "-c",
             "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
             "print(sorted(s.get('name') for s in r.iter('testsuite')))",
             night + "/junit.xml"});
  EXPECT_EQ(junit.exit_code, 0) << junit.err;
  EXPECT_EQ(junit.out, "['arm', 'cell', 'x86']\n");
}

TEST_F(RigMatrix, ARegressionTheNextNightExitsOneAndNamesTestBoardAndLog) {
  ASSERT_EQ(night("2026-12-01", {}).exit_code, kOk);
  // Night two: arm's restore_threads fails; the x86_64 build fails, so x86 does not run; the
  // other arches boot what their build made.
  dir_.write("built-kernel", "built kernel");
  dir_.write("built-ramdisk", "built ramdisk");
  const std::string build =
      "if [ {arch} = x86_64 ]; then echo 'cc1: error: bad flag' >&2; exit 1; fi; "
      "echo building {arch} >&2; printf '[{\"arch\": \"{arch}\", \"kernel\": \"" +
      dir_.file("built-kernel") + "\", \"ramdisk\": \"" + dir_.file("built-ramdisk") +
      "\", \"kernel_release\": \"6.1.0-{arch}\"}]'";
  const CommandResult r =
      night("2026-12-02", {{"arm", boot(false, 90)}}, {"--build", build, "--json"});
  ASSERT_EQ(r.exit_code, kRegressed) << r.out << r.err;
  const json summary = json::parse(r.out);
  std::set<std::string> regressed;
  for (const auto& g : summary["regressions"]) {
    regressed.insert(g["test"].get<std::string>() + "@" + g["board"].get<std::string>());
    EXPECT_EQ(g["last_pass"], "2026-12-01");
  }
  EXPECT_EQ(regressed,
            (std::set<std::string>{"ckpt/restore_threads@arm", "uname@x86",
                                   "ckpt/restore_threads@x86", "ckpt/bench_dump_rate_64MiB@x86"}));
  for (const auto& g : summary["regressions"]) {
    if (g["board"] != "arm") continue;
    std::ifstream log(g["console_log"].get<std::string>());
    const std::string text(std::istreambuf_iterator<char>(log), {});
    EXPECT_NE(text.find("TEST_CASE_ID=ckpt/restore_threads RESULT=fail"), std::string::npos)
        << "the log a regression links to shows the failure";
  }

  const json n = results("2026-12-02");
  ASSERT_EQ(n["builds"].size(), 3u);
  for (const auto& b : n["builds"]) {
    EXPECT_EQ(b["ok"], b["arch"] != "x86_64") << b.dump();
    const std::string log = results_ + "/2026-12-02/" + b["log"].get<std::string>();
    EXPECT_TRUE(fs::is_regular_file(log)) << log;
  }
  for (const auto& b : n["boards"]) {
    if (b["board"] == "x86") {
      EXPECT_EQ(b["result"], "error");
      EXPECT_NE(b["error"].get<std::string>().find("x86_64 build failed"), std::string::npos);
    } else {
      EXPECT_EQ(b["kernel"], dir_.file("built-kernel")) << "boots what the build made";
    }
  }

  const std::string night_dir = results_ + "/2026-12-02";
  const CommandResult kcidb =
      check({"/usr/bin/python3", script("check_kcidb.py"),
             script("fixtures/kcidb/kcidb-v5.3.schema.json"), night_dir + "/kcidb.json"});
  EXPECT_EQ(kcidb.exit_code, 0) << kcidb.out << kcidb.err;
  const CommandResult page = check({"/usr/bin/python3", script("check_report_page.py"),
                                    night_dir + "/report.html", "ppc64", "aarch64", "x86_64"});
  EXPECT_EQ(page.exit_code, 0) << page.out << page.err;
}

TEST_F(RigMatrix, ARunOfTheSameDateReplacesTheNightWhole) {
  ASSERT_EQ(night("2026-12-01", {{"cell", boot(false, 100)}}).exit_code, kOk)
      << "a first night has nothing to regress from";
  ASSERT_EQ(night("2026-12-01", {}).exit_code, kOk);
  for (const auto& b : results("2026-12-01")["boards"])
    EXPECT_EQ(b["result"], "pass");
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(results_))
    entries.push_back(e.path().filename());
  EXPECT_EQ(entries, std::vector<std::string>{"2026-12-01"}) << "no partial night is left";
}

TEST_F(RigMatrix, NightlyKeepsBootedKernelsAndRemovesNightsBeyondTheRetention) {
  for (const char* date : {"2026-12-01", "2026-12-02", "2026-12-03"}) {
    const CommandResult r =
        night(date, {}, {"--keep-nights", "2", "--keep-kernels", "1"}, "nightly");
    ASSERT_EQ(r.exit_code, kOk) << date << r.out << r.err;
  }
  EXPECT_FALSE(fs::exists(results_ + "/2026-12-01"));
  EXPECT_TRUE(fs::exists(results_ + "/2026-12-02/report.html"));
  EXPECT_TRUE(fs::exists(results_ + "/2026-12-03/report.html"));
  const json tonight = results("2026-12-03");
  for (const auto& b : tonight["boards"]) {
    const fs::path kept = fs::path(results_) / "kernels" / b["board"].get<std::string>();
    std::vector<fs::path> files(fs::directory_iterator(kept), fs::directory_iterator{});
    ASSERT_EQ(files.size(), 1u) << kept;
    EXPECT_EQ(files[0].filename().string(), b["kernel_sha256"].get<std::string>().substr(0, 12) +
                                                "-vmlinux-" + b["board"].get<std::string>());
  }
}

TEST_F(RigMatrix, BadInputIsAUsageErrorThatSaysWhatToFix) {
  CommandResult r = night("2026-13-1", {});
  EXPECT_EQ(r.exit_code, kUsage);
  EXPECT_NE(r.err.find("--date takes YYYY-MM-DD"), std::string::npos) << r.err;
  r = night("2026-12-01", {}, {"--boards", "cell,nosuch"});
  EXPECT_EQ(r.exit_code, kUsage);
  EXPECT_NE(r.err.find("no board 'nosuch'"), std::string::npos) << r.err;
  dir_.write("results", "a file where the results tree should be");
  r = night("2026-12-01", {});
  EXPECT_EQ(r.exit_code, kUsage);
  EXPECT_NE(r.err.find("results directory"), std::string::npos) << r.err;
}

TEST_F(RigMatrix, ADamagedEarlierNightIsNamedAndLeftOut) {
  fs::create_directories(results_ + "/2026-11-30");
  dir_.write("results/2026-11-30/results.json", "{\"date\": \"2026-11-30\", \"boards\": 7}");
  const CommandResult r = night("2026-12-01", {});
  EXPECT_EQ(r.exit_code, kOk) << r.err;
  EXPECT_NE(r.err.find("2026-11-30/results.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("left out"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace crossrig::rig::testing
