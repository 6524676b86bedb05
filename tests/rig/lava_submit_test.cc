// rig lava submit and rig matrix --from-lava against a real LAVA: Debian's lava-server with its
// own PostgreSQL, scheduler and a lava-worker on this host (rig/lava/local-lava), running the
// exported jobs on emulated boards (power through the board's command driver, console a
// loopback TCP server that plays a boot with test results at each power-on). The server starts
// once for all the tests (about 15 s); each night waits for LAVA's scheduler, which looks for
// work every 20 s.
//
// lava-worker runs lava-run, which runs as root only: the tests fail, saying so, for anyone
// else (they run as root in CI).

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/rig/emulated_board.h"
#include "tests/rig/inventory_fixture.h"

namespace crossrig::rig::testing {
namespace {

namespace fs = std::filesystem;
using crossrig::plugsim::CommandResult;
using crossrig::plugsim::run_command;
using nlohmann::json;

const std::string kLocalLava = CROSSRIG_SOURCE_DIR "/rig/lava/local-lava";

std::vector<std::string> boot(const std::string& clone3) {
  return {"SLOF **********************************************************************",
          "Linux version 6.1.0 (rig lava submit test)",
          "<LAVA_SIGNAL_STARTRUN smoke 1>",
          "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=uname RESULT=pass>",
          "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_dump_rate_64MiB RESULT=pass "
          "MEASUREMENT=812.5 UNITS=MiB/s>",
          "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=clone3 RESULT=" + clone3 + ">",
          "<LAVA_SIGNAL_ENDRUN smoke 1>"};
}

// A boot that never reaches the ramdisk: the job's monitors time out.
const std::vector<std::string> kHangs = {"SLOF ****", "Linux version 6.1.0", "Kernel panic"};

// The LAVA instance all tests share, in a directory the postgres user can reach.
class LocalLava : public ::testing::Environment {
 public:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "lava-worker runs lava-run, which runs as root only: run this "
                                "test as root, as CI does";
    char tmpl[] = "/tmp/rig-local-lava-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    chmod(dir_.c_str(), 0755);
    auto r =
        run_command({kLocalLava, "start", dir_ + "/lava", "--port", "0"}, std::chrono::minutes(3));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    json started = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(started.is_object()) << r.out;
    url_ = started["url"];
    token_file_ = started["token_file"];
  }
  void TearDown() override {
    if (dir_.empty()) return;
    auto r = run_command({kLocalLava, "stop", dir_ + "/lava"}, std::chrono::minutes(1));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (::testing::UnitTest::GetInstance()->Passed()) fs::remove_all(dir_);
  }

  static const std::string& dir() { return dir_; }
  static const std::string& url() { return url_; }
  static const std::string& token_file() { return token_file_; }
  static std::string instance() { return dir_ + "/lava"; }

 private:
  static inline std::string dir_, url_, token_file_;
};

class LavaSubmit : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(LocalLava::url().empty()) << "the local LAVA did not start";
    dir_ = LocalLava::dir() + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_ + "/images");
    for (const char* f : {"images/vmlinux", "images/image", "images/initramfs.cpio.gz"})
      std::ofstream(dir_ + "/" + f) << "not really " << f;
  }

  // An inventory of SLOF and s390 netboot boards (LAVA power-cycles them and watches their
  // console) with these names and consoles.
  std::string inventory(const std::vector<std::pair<std::string, const EmulatedBoard*>>& boards,
                        int timeout = 60) {
    std::string yaml = "boards:\n";
    for (const auto& [name, board] : boards) {
      const std::string relay = relay_of(name);
      yaml += "  " + name + ":\n    arch: ppc64\n    boot: slof\n" +
              "    power:\n      driver: command\n      on: echo on >> " + relay +
              ".ons\n      off: echo off >> " + relay + ".offs\n      state: test -s " + relay +
              ".ons\n    console: " + board->console() + "\n    tftp_dir: " + dir_ + "/tftp/" +
              name + "\n    job:\n      kernel: images/vmlinux\n      ramdisk: " +
              "images/initramfs.cpio.gz\n      timeout: " + std::to_string(timeout) + "\n";
    }
    const std::string path = dir_ + "/inventory.yaml";
    std::ofstream(path) << yaml;
    return path;
  }

  std::string relay_of(const std::string& board) const { return dir_ + "/relay-" + board; }

  // Exports the inventory into dir/export and gives LAVA its device types and devices.
  std::string export_and_add(const std::string& inventory_file) {
    const std::string out = dir_ + "/export";
    auto r = rig({"lava", "export", "--out", out, "--inventory", inventory_file});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto a = run_command({kLocalLava, "add", LocalLava::instance(), out}, std::chrono::minutes(2));
    EXPECT_EQ(a.exit_code, 0) << a.err;
    return out;
  }

  CommandResult submit(const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
        "lava",     "submit", "--server", LocalLava::url(), "--token-file", LocalLava::token_file(),
        "--export", out};
    args.insert(args.end(), extra.begin(), extra.end());
    return rig(args);
  }

  CommandResult matrix(const std::string& out, const std::string& date,
                       std::vector<std::string> extra = {}, const std::string& wait = "240") {
    std::vector<std::string> argv{
        kRig,     "matrix", "--from-lava", out,  "--results", dir_ + "/results",
        "--date", date,     "--wait",      wait, "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_command(argv, std::chrono::minutes(5));
  }

  json night(const std::string& date) {
    std::ifstream in(dir_ + "/results/" + date + "/results.json");
    return json::parse(in, nullptr, false);
  }

  std::string dir_;
};

const json* board_run(const json& night, const std::string& board) {
  for (const auto& b : night["boards"]) {
    if (b["board"] == board) return &b;
  }
  return nullptr;
}

std::map<std::string, json> tests_of(const json& run) {
  std::map<std::string, json> out;
  for (const auto& t : run["tests"])
    out[t["name"]] = t;
  return out;
}

TEST_F(LavaSubmit, TwoNightsOfJobsComeBackAsTheMatrixWithItsRegression) {
  EmulatedBoard cell(relay_of("cell"), {boot("pass"), boot("pass")});
  EmulatedBoard zed(relay_of("zed"), {boot("pass"), boot("fail")});
  const std::string out = export_and_add(inventory({{"cell", &cell}, {"zed", &zed}}));

  auto s = submit(out, {"--json"});
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  json record = json::parse(s.out);
  ASSERT_EQ(record["jobs"].size(), 2u) << s.out;
  for (const auto& j : record["jobs"]) {
    EXPECT_EQ(j["url"], LocalLava::url() + "scheduler/job/" + std::to_string(j["id"].get<long>()));
    EXPECT_EQ(j["arch"], "ppc64");
    EXPECT_EQ(j["file"], "jobs/" + j["board"].get<std::string>() + "-default.yaml");
  }
  std::ifstream kept(out + "/submitted.json");
  json on_disk = json::parse(kept);
  EXPECT_EQ(on_disk["jobs"], record["jobs"]);

  auto first = matrix(out, "2026-12-01");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const json n1 = night("2026-12-01");
  ASSERT_EQ(n1["boards"].size(), 2u) << n1.dump(2);
  for (const char* board : {"cell", "zed"}) {
    const json* run = board_run(n1, board);
    ASSERT_NE(run, nullptr) << board;
    EXPECT_EQ((*run)["result"], "pass") << run->dump(2);
    auto tests = tests_of(*run);
    ASSERT_EQ(tests.size(), 3u) << run->dump(2);
    EXPECT_EQ(tests["uname"]["result"], "pass");
    EXPECT_EQ(tests["clone3"]["result"], "pass");
    // Under the name the board printed, not LAVA's "ckpt_bench_dump_rate_64mib".
    EXPECT_EQ(tests["ckpt/bench_dump_rate_64MiB"]["measurement"], 812.5);
    EXPECT_EQ(tests["ckpt/bench_dump_rate_64MiB"]["units"], "MiB/s");
    EXPECT_TRUE((*run)["times"].contains("kernel")) << run->dump(2);
    const std::string console =
        dir_ + "/results/2026-12-01/" + (*run)["console_log"].get<std::string>();
    std::ifstream log(console);
    const std::string text(std::istreambuf_iterator<char>(log), {});
    EXPECT_NE(text.find("<LAVA_SIGNAL_ENDRUN smoke 1>"), std::string::npos) << console;
  }
  for (const char* f : {"junit.xml", "kcidb.json", "report.html", "zed/lava-log.yaml"})
    EXPECT_TRUE(fs::exists(dir_ + "/results/2026-12-01/" + f)) << f;

  ASSERT_EQ(submit(out).exit_code, 0);
  auto second = matrix(out, "2026-12-02");
  EXPECT_EQ(second.exit_code, 1) << "zed's clone3 regressed\n" << second.out << second.err;
  json summary = json::parse(second.out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << second.out;
  ASSERT_EQ(summary["regressions"].size(), 1u) << second.out;
  EXPECT_EQ(summary["regressions"][0]["board"], "zed");
  EXPECT_EQ(summary["regressions"][0]["test"], "clone3");
  EXPECT_EQ(summary["regressions"][0]["last_pass"], "2026-12-01");
  const json n2 = night("2026-12-02");
  EXPECT_EQ((*board_run(n2, "zed"))["result"], "fail");
  EXPECT_EQ(cell.power_ons(), 2);
  EXPECT_EQ(zed.power_ons(), 2);
}

TEST_F(LavaSubmit, AJobLavaEndsIncompleteIsAnErrorWithLavasReason) {
  EmulatedBoard hang(relay_of("hang"), {kHangs});
  const std::string out = export_and_add(inventory({{"hang", &hang}}, 10));
  ASSERT_EQ(submit(out).exit_code, 0);
  auto r = matrix(out, "2026-12-01");
  ASSERT_EQ(r.exit_code, 0) << "no earlier night: nothing regressed\n" << r.out << r.err;
  const json n = night("2026-12-01");
  const json* run = board_run(n, "hang");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ((*run)["result"], "error");
  const std::string error = (*run)["error"];
  EXPECT_NE(error.find("ended Incomplete: Test: lava-test-monitor timed out after 10 seconds"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(LocalLava::url() + "scheduler/job/"), std::string::npos) << error;
  EXPECT_TRUE((*run)["tests"].empty());
}

TEST_F(LavaSubmit, AJobStillQueuedAfterTheWaitIsAnError) {
  EmulatedBoard idle(relay_of("idle"), {boot("pass")});
  const std::string out = export_and_add(inventory({{"idle", &idle}}));
  auto m = run_command({kLocalLava, "manage", LocalLava::instance(), "devices", "update",
                        "--health", "MAINTENANCE", "idle"},
                       std::chrono::minutes(1));
  ASSERT_EQ(m.exit_code, 0) << m.err;
  ASSERT_EQ(submit(out).exit_code, 0);
  auto r = matrix(out, "2026-12-01", {}, "0");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json n = night("2026-12-01");
  const json* run = board_run(n, "idle");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ((*run)["result"], "error");
  EXPECT_NE((*run)["error"].get<std::string>().find("still Submitted"), std::string::npos)
      << run->dump(2);
  EXPECT_EQ(idle.power_ons(), 0);
}

TEST_F(LavaSubmit, RefusedJobsBadTokensAndDeadServersAreSaidAndLoseNothing) {
  EmulatedBoard cell(relay_of("cell"), {boot("pass")});
  const std::string out = export_and_add(inventory({{"cell", &cell}}));
  // A job of a device type the server does not have: LAVA refuses it, the others go in.
  std::ifstream cell_job(out + "/jobs/cell-default.yaml");
  std::string ghost(std::istreambuf_iterator<char>(cell_job), {});
  const std::string type = "device_type: crossrig-slof";
  ghost.replace(ghost.find(type), type.size(), "device_type: crossrig-ghost");
  std::ofstream(out + "/jobs/ghost-default.yaml") << ghost;
  auto s = submit(out);
  EXPECT_EQ(s.exit_code, 1) << s.out << s.err;
  EXPECT_NE(s.err.find("jobs/ghost-default.yaml"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("Device type 'crossrig-ghost' is unavailable"), std::string::npos)
      << "LAVA's reason: " << s.err;
  EXPECT_NE(s.out.find("cell "), std::string::npos) << s.out;
  std::ifstream kept(out + "/submitted.json");
  const json record = json::parse(kept);
  ASSERT_EQ(record["jobs"].size(), 1u);
  EXPECT_EQ(record["jobs"][0]["board"], "cell");

  // A token the server does not know: nothing submitted, the record of the good run kept.
  const std::string bad = dir_ + "/bad-token";
  std::ofstream(bad) << "not-a-token\n";
  auto t = rig({"lava", "submit", "--server", LocalLava::url(), "--token-file", bad, "--export",
                out, "--boards", "cell"});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.err.find("token"), std::string::npos) << t.err;
  std::ifstream still(out + "/submitted.json");
  EXPECT_EQ(json::parse(still), record);
  auto c = matrix(out, "2026-12-01", {"--token-file", bad});
  EXPECT_EQ(c.exit_code, 2) << c.out << c.err;
  EXPECT_NE(c.err.find("token"), std::string::npos) << c.err;
  EXPECT_FALSE(fs::exists(dir_ + "/results/2026-12-01"));

  // No server there.
  auto d = rig({"lava", "submit", "--server", "http://127.0.0.1:1/", "--token-file",
                LocalLava::token_file(), "--export", out, "--boards", "cell"});
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_NE(d.err.find("check the server's URL"), std::string::npos) << d.err;

  auto e = rig({"lava", "submit", "--server", LocalLava::url(), "--token-file",
                LocalLava::token_file(), "--export", dir_ + "/nothing-here"});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err.find("rig lava export --out"), std::string::npos) << e.err;
}

}  // namespace
}  // namespace crossrig::rig::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new crossrig::rig::testing::LocalLava);
  return RUN_ALL_TESTS();
}
