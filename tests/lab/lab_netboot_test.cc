// Jobs on the virtual lab's boards: each board netboots through its own firmware from rig's
// TFTP server and runs the ramdisk's tests (label lab). The ctest fixture lab_fixture.sh
// brings the lab up before these tests and down after them.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "plugctl/sim/plugsim_process.h"
#include "tests/support/file_text.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using crossrig::plugsim::CommandResult;
using crossrig::plugsim::run_command;
using crossrig::test_support::file_text;
using crossrig::test_support::TempDir;

const std::string kRig = CROSSRIG_BINARY_DIR "/bin/rig";

nlohmann::json lab_board(const std::string& name) {
  CommandResult status = run_command({kRig, "lab", "status", "--json"}, std::chrono::seconds(60));
  EXPECT_EQ(status.exit_code, 0) << status.err;
  auto boards = nlohmann::json::parse(status.out, nullptr, false);
  if (!boards.is_array()) return {};
  for (const auto& b : boards) {
    if (b["name"] == name) return b;
  }
  ADD_FAILURE() << "no board " << name << " in rig lab status: " << status.out;
  return {};
}

// The board's default job from the lab's inventory (the lab's own kernel and ramdisk); every
// test in it passes, and its report says how long each boot stage took.
void board_passes(const std::string& name, const std::string& arch, const std::string& firmware) {
  nlohmann::json board = lab_board(name);
  ASSERT_TRUE(board.is_object());
  EXPECT_EQ(board["arch"], arch);
  EXPECT_EQ(board["power"], "off") << "boards wait powered off between jobs";
  TempDir jobs("rig-lab-job");
  // Generous: under TCG on a loaded 2-core machine a firmware netboot takes minutes.
  CommandResult run = run_command({kRig, "run", "--board", name, "--timeout", "900", "--wait",
                                   "1800", "--job-dir", (jobs.path() / "job").string(), "--json"},
                                  std::chrono::minutes(60));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto report = nlohmann::json::parse(run.out);
  EXPECT_EQ(report["board"], name);
  EXPECT_EQ(report["arch"], arch);
  EXPECT_EQ(report["result"], "pass");
  std::set<std::string> names;
  for (const auto& t : report["tests"]) {
    names.insert(t["name"].get<std::string>());
    EXPECT_EQ(t["result"], "pass") << t.dump();
  }
  for (const char* smoke : {"uname", "ptrace", "userfaultfd", "clone3"})
    EXPECT_TRUE(names.count(smoke)) << "no " << smoke << " test in " << run.out;
  // The ckpt conformance suite ran on the board: its feature check, tracees of every kind
  // (memory, threads, process trees, terminals) and the fault cases.
  for (const char* ckpt :
       {"ckpt/check", "ckpt/heap", "ckpt/threads", "ckpt/children", "ckpt/signals_leave_running",
        "ckpt/refused_seccomp_strict", "ckpt/shell_job", "ckpt/fault_corrupt-pages",
        "ckpt/fault_dump-phase_pages_sigint"})
    EXPECT_TRUE(names.count(ckpt)) << "no " << ckpt << " case in " << run.out;
  for (const char* stage : {"firmware", "kernel", "job"}) {
    ASSERT_TRUE(report["times"][stage].is_number()) << "no " << stage << " time in " << run.out;
    EXPECT_GT(report["times"][stage].get<double>(), 0.0) << stage;
  }
  std::string log_path = report["console_log"].get<std::string>();
  EXPECT_EQ(log_path.front(), '/') << "console_log must be absolute";
  std::string log = file_text(log_path);
  EXPECT_NE(log.find(firmware), std::string::npos) << "no firmware banner in the console log";
  EXPECT_NE(log.find("Linux version"), std::string::npos);
  EXPECT_EQ(lab_board(name)["power"], "off") << "the job powers its board off";
}

TEST(LabNetboot, X86_64ThroughIpxe) {
  board_passes("qemu-x86_64", "x86_64", "iPXE");
}
TEST(LabNetboot, Aarch64ThroughUboot) {
  board_passes("qemu-aarch64", "aarch64", "U-Boot");
}
TEST(LabNetboot, Ppc64leThroughSlof) {
  board_passes("qemu-ppc64le", "ppc64le", "Open Firmware");
}
TEST(LabNetboot, Ppc64ThroughSlof) {
  board_passes("qemu-ppc64", "ppc64", "Open Firmware");
}
TEST(LabNetboot, S390xThroughS390Netboot) {
  board_passes("qemu-s390x", "s390x", "Network boot");
}

// A board given a file that is no kernel: its firmware cannot boot it, the attempt times out,
// and the job ends as failed with the console log showing why, instead of hanging.
TEST(LabNetboot, WrongKernelFailsWithItsConsoleLog) {
  nlohmann::json board = lab_board("qemu-x86_64");
  ASSERT_TRUE(board.is_object());
  TempDir jobs("rig-lab-job");
  CommandResult run =
      run_command({kRig, "run", "--board", "qemu-x86_64", "--kernel", board["ramdisk"], "--ramdisk",
                   board["ramdisk"], "--timeout", "120", "--wait", "1800", "--job-dir",
                   (jobs.path() / "job").string(), "--json"},
                  std::chrono::minutes(40));
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  auto report = nlohmann::json::parse(run.out);
  EXPECT_EQ(report["result"], "fail");
  EXPECT_EQ(report["outcome"], "gave-up");
  EXPECT_EQ(report["attempts"].back()["end"], "timed out in firmware");
  std::string log = file_text(report["console_log"].get<std::string>());
  EXPECT_NE(log.find("iPXE"), std::string::npos);
  EXPECT_EQ(log.find("Linux version"), std::string::npos);
  EXPECT_EQ(lab_board("qemu-x86_64")["power"], "off");
}

}  // namespace
