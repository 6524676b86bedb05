// rig run end to end: the rig binary drives an emulated board. The board's power is the command
// driver on a relay file; its console is a loopback TCP peer in this test that plays a boot
// script each time the relay goes from off to on, as a real board prints after power-on.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/file.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/rig/emulated_board.h"
#include "tests/rig/inventory_fixture.h"

namespace crossrig::rig::testing {
namespace {

using crossrig::plugsim::CommandResult;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kOk = 0, kFailed = 1, kUnreachable = 3;

const std::vector<std::string> kGoodBoot = {
    "\x1b[0mSLOF **********************************************************************",
    "Trying to load: from: /vdevice/l-lan@30000002 ...",
    "[    0.000000] Linux version 6.1.0-cell (gcc 12) #1 SMP",
    "[    2.100000] Run /init as init process",
    "<LAVA_SIGNAL_STARTRUN 0_smoke 17>",
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt-dump RESULT=pass MEASUREMENT=41 UNITS=ms>",
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt-vsx RESULT=skip>",
    "<LAVA_SIGNAL_ENDRUN 0_smoke 17>",
};
const std::vector<std::string> kHungBoot = {"SLOF ****", "[    0.000000] Linux version 6.1.0"};

class RigRun : public ::testing::Test {
 protected:
  ScratchDir dir_{"rig-run"};
  std::string relay_ = dir_.write("relay", "OFF\n");
  std::string kernel_ = dir_.write("vmlinux-6.1", "kernel image");
  std::string ramdisk_ = dir_.write("initramfs-test.cpio", "ramdisk image");

  // The board "cell" on console, with extra fields (e.g. its default job) added.
  std::string inventory(const std::string& console, const std::string& extra = "") {
    std::filesystem::create_directories(dir_.file("tftp"));
    return dir_.write(
        "inventory.yaml",
        "boards:\n  cell:\n" + extra + "    arch: ppc64\n    boot: slof\n    console: " + console +
            "\n    tftp_dir: " + dir_.file("tftp") +
            "\n    kernel: vmlinux\n    off_time: 0\n    power:\n      driver: command\n"
            "      address: " +
            relay_ +
            "\n      on: echo ON > {address} && echo on >> {address}.ons\n      off: echo OFF > "
            "{address}\n"
            "      state: grep -qx ON {address}\n      confirm_interval: 0.05\n");
  }

  CommandResult run(const std::string& inv, std::vector<std::string> extra) {
    std::vector<std::string> args{"run",   "--board",   "cell",          "--kernel",
                                  kernel_, "--ramdisk", ramdisk_,        "--inventory",
                                  inv,     "--job-dir", dir_.file("job")};
    args.insert(args.end(), extra.begin(), extra.end());
    return rig(args,
               {"RIG_LOCK_DIR=" + dir_.file("locks"), "CROSSRIG_RUNTIME_DIR=" + dir_.file("run")});
  }
};

TEST_F(RigRun, PassingJobStagesBootsCollectsAndPowersOff) {
  EmulatedBoard board(relay_, {kGoodBoot});
  std::string inv = inventory(board.console());
  CommandResult r = run(inv, {"--json", "--timeout", "30", "--cmdline", "console=hvc0"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["outcome"], "passed");
  EXPECT_EQ(j["board"], "cell");
  EXPECT_EQ(j["arch"], "ppc64");
  EXPECT_EQ(j["result"], "pass");
  EXPECT_EQ(j["tests"], json::parse(R"([
      {"name":"ckpt-dump","result":"pass","measurement":"41","units":"ms"},
      {"name":"ckpt-vsx","result":"skip"}])"));
  for (const char* stage : {"firmware", "kernel", "job"}) {
    ASSERT_TRUE(j["times"][stage].is_number()) << stage << " in " << j["times"];
    EXPECT_GE(j["times"][stage].get<double>(), 0) << stage;
  }
  EXPECT_EQ(j["console_log"], dir_.file("job/console.log"));
  EXPECT_EQ(j["job_dir"], dir_.file("job"));
  EXPECT_EQ(j["results"], json::parse(R"([
      {"id":"ckpt-dump","result":"pass","measurement":"41","units":"ms"},
      {"id":"ckpt-vsx","result":"skip"}])"));
  ASSERT_EQ(j["attempts"].size(), 1u);
  std::vector<std::string> phases;
  for (const auto& p : j["attempts"][0]["phases"])
    phases.push_back(p["phase"]);
  EXPECT_EQ(phases, (std::vector<std::string>{"power-on", "firmware", "kernel", "test", "done"}));

  EXPECT_EQ(dir_.read("tftp/vmlinux"), "kernel image") << "named as the inventory says";
  EXPECT_EQ(dir_.read("tftp/initramfs-test.cpio"), "ramdisk image") << "named after the file";
  EXPECT_EQ(dir_.read("tftp/cmdline"), "console=hvc0\n");
  EXPECT_EQ(dir_.read("relay"), "OFF\n") << "powered off at the end";
  EXPECT_EQ(board.power_ons(), 1);

  std::string log = dir_.read("job/console.log");
  EXPECT_NE(log.find("SLOF ****"), std::string::npos) << log;
  EXPECT_EQ(log.find("\x1b"), std::string::npos) << "escape sequences cleaned";
  EXPECT_NE(log.find("### rig: job passed: power off"), std::string::npos) << log;
  EXPECT_EQ(json::parse(dir_.read("job/results.json")), j) << "results.json holds the same";
}

TEST_F(RigRun, BoardWithoutFilesRunsItsDefaultJobFromTheInventory) {
  EmulatedBoard board(relay_, {kGoodBoot});
  // Paths relative to the inventory's directory, as a lab keeps its files beside it.
  std::string inv = inventory(board.console(),
                              "    job:\n      kernel: vmlinux-6.1\n"
                              "      ramdisk: ./initramfs-test.cpio\n"
                              "      cmdline: console=hvc0 quiet\n      timeout: 30\n");
  CommandResult r =
      rig({"run", "--board", "cell", "--inventory", inv, "--job-dir", dir_.file("job"), "--json"},
          {"RIG_LOCK_DIR=" + dir_.file("locks")});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  EXPECT_EQ(json::parse(r.out)["result"], "pass");
  EXPECT_EQ(dir_.read("tftp/vmlinux"), "kernel image");
  EXPECT_EQ(dir_.read("tftp/initramfs-test.cpio"), "ramdisk image");
  EXPECT_EQ(dir_.read("tftp/cmdline"), "console=hvc0 quiet\n");

  CommandResult overridden = run(inv, {"--cmdline", "console=hvc1"});
  ASSERT_EQ(overridden.exit_code, kOk) << overridden.err;
  EXPECT_EQ(dir_.read("tftp/cmdline"), "console=hvc1\n") << "the command line wins";
}

TEST_F(RigRun, BoardWithoutFilesOrDefaultJobIsAUsageError) {
  std::string inv = inventory("127.0.0.1:1");
  CommandResult r = rig({"run", "--board", "cell", "--inventory", inv});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("board 'cell' has no default job in the inventory: give --kernel and "
                       "--ramdisk, or add a job: mapping"),
            std::string::npos)
      << r.err;
}

TEST_F(RigRun, MissingTftpDirSaysHowItMustBeServed) {
  EmulatedBoard board(relay_, {kGoodBoot});
  std::string inv = inventory(board.console());
  std::filesystem::remove(dir_.file("tftp"));
  CommandResult r = run(inv, {"--json", "--timeout", "30"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("its tftp_dir " + dir_.file("tftp") + " does not exist"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("rig tftp --root"), std::string::npos) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["result"], "error");
  EXPECT_EQ(j["board"], "cell");
  EXPECT_EQ(board.power_ons(), 0) << "nothing is switched on for a job that cannot boot";
  EXPECT_FALSE(std::filesystem::exists(dir_.file("tftp"))) << "not created behind the user";
}

TEST_F(RigRun, HungBoardIsPowerCycledAndRetried) {
  EmulatedBoard board(relay_, {kHungBoot, kGoodBoot});
  std::string inv = inventory(board.console());
  CommandResult r = run(inv, {"--json", "--timeout", "1", "--retries", "2"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["attempts"].size(), 2u);
  EXPECT_EQ(j["attempts"][0]["end"], "timed out in kernel");
  EXPECT_EQ(j["attempts"][1]["end"], "completed");
  EXPECT_EQ(board.power_ons(), 2);
  EXPECT_EQ(dir_.read("relay"), "OFF\n");
}

TEST_F(RigRun, LostConsoleIsReopenedAndTheBoardRetried) {
  EmulatedBoard board(relay_, {{"SLOF ****", kHangUp}, kGoodBoot});
  std::string inv = inventory(board.console());
  CommandResult r = run(inv, {"--json", "--timeout", "30", "--retries", "1", "--off-time", "0.2"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["attempts"].size(), 2u);
  EXPECT_EQ(j["attempts"][0]["end"], "console lost in firmware");
  EXPECT_EQ(j["outcome"], "passed");
}

TEST_F(RigRun, BoardHungOnEveryAttemptGivesUp) {
  EmulatedBoard board(relay_, {kHungBoot});
  std::string inv = inventory(board.console());
  CommandResult r = run(inv, {"--timeout", "0.5", "--retries", "1"});
  EXPECT_EQ(r.exit_code, kFailed) << r.err;
  EXPECT_NE(r.out.find("cell: job gave-up after 2 attempt(s)"), std::string::npos) << r.out;
  EXPECT_EQ(board.power_ons(), 2);
  EXPECT_EQ(dir_.read("relay"), "OFF\n");
  json kept = json::parse(dir_.read("job/results.json"));
  EXPECT_EQ(kept["outcome"], "gave-up");
  EXPECT_EQ(kept["result"], "fail") << "a hung board is a failed result, with its console log";
  EXPECT_TRUE(kept["times"]["kernel"].is_null()) << "the kernel never started the tests";
  EXPECT_EQ(kept["console_log"], dir_.file("job/console.log"));
}

TEST_F(RigRun, FailedTestFailsTheJob) {
  auto boot = kGoodBoot;
  boot[5] = "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt-dump RESULT=fail>";
  EmulatedBoard board(relay_, {boot});
  CommandResult r = run(inventory(board.console()), {"--timeout", "30"});
  EXPECT_EQ(r.exit_code, kFailed) << r.err;
  EXPECT_NE(r.out.find("ckpt-dump: fail\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cell: job failed"), std::string::npos) << r.out;
}

TEST_F(RigRun, BusyBoardIsRefusedOrWaitedFor) {
  EmulatedBoard board(relay_, {kGoodBoot});
  std::string inv = inventory(board.console());
  std::filesystem::create_directories(dir_.file("locks"));
  int fd = open(dir_.file("locks/cell.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "pid 1 (job elsewhere)\n", 22), 22);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);
  CommandResult busy = run(inv, {"--timeout", "30"});
  EXPECT_EQ(busy.exit_code, kFailed);
  EXPECT_NE(busy.err.find("board 'cell' is busy: pid 1 (job elsewhere) holds"), std::string::npos)
      << busy.err;
  EXPECT_EQ(board.power_ons(), 0) << "a refused job touches nothing";
  std::thread release([fd] {
    std::this_thread::sleep_for(300ms);
    close(fd);
  });
  CommandResult waited = run(inv, {"--timeout", "30", "--wait", "60"});
  release.join();
  EXPECT_EQ(waited.exit_code, kOk) << waited.err;
}

TEST_F(RigRun, UnreachableConsoleExits3) {
  int port;
  {
    crossrig::plugctl::testing::LoopbackPeer gone([](int, const auto&) {});
    port = gone.port();
  }
  CommandResult r = run(inventory("127.0.0.1:" + std::to_string(port)), {"--timeout", "5"});
  EXPECT_EQ(r.exit_code, kUnreachable) << r.err;
  EXPECT_NE(r.err.find("board 'cell': console 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << r.err;
}

TEST_F(RigRun, UsageErrors) {
  EXPECT_EQ(rig({"run", "--help"}).exit_code, 0);
  EXPECT_EQ(rig({"run", "--board", "cell"}).exit_code, 2);
  std::string inv = inventory("127.0.0.1:1");
  EXPECT_EQ(run(inv, {"--retries", "-1"}).exit_code, 2);
  EXPECT_EQ(run(inv, {"--timeout", "soon"}).exit_code, 2);
}

}  // namespace
}  // namespace crossrig::rig::testing
