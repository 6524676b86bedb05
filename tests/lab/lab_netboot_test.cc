// Jobs on the virtual lab's boards: each board netboots through its own firmware from rig's
// TFTP server and runs the ramdisk's tests (label lab). The ctest fixture lab_fixture.sh
// brings the lab up before these tests and down after them.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "plugctl/sim/plugsim_process.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using crossrig::plugsim::CommandResult;
using crossrig::plugsim::run_command;
using crossrig::test_support::TempDir;

const std::string kRig = CROSSRIG_BINARY_DIR "/bin/rig";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

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

// Seconds at which the last attempt entered each phase.
std::map<std::string, double> phase_times(const nlohmann::json& report) {
  std::map<std::string, double> times;
  for (const auto& p : report["attempts"].back()["phases"])
    times[p["phase"].get<std::string>()] = p["at_s"].get<double>();
  return times;
}

// One job on the board with the lab's own kernel and ramdisk; every test in it passes.
void board_passes(const std::string& name, const std::string& arch, const std::string& firmware) {
  nlohmann::json board = lab_board(name);
  ASSERT_TRUE(board.is_object());
  EXPECT_EQ(board["arch"], arch);
  EXPECT_EQ(board["power"], "off") << "boards wait powered off between jobs";
  TempDir jobs("rig-lab-job");
  // Generous: under TCG on a loaded 2-core machine a firmware netboot takes minutes.
  CommandResult run = run_command(
      {kRig, "run", "--board", name, "--kernel", board["kernel"], "--ramdisk", board["ramdisk"],
       "--timeout", "900", "--wait", "1800", "--job-dir", (jobs.path() / "job").string(), "--json"},
      std::chrono::minutes(60));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto report = nlohmann::json::parse(run.out);
  EXPECT_EQ(report["board"], name);
  EXPECT_EQ(report["outcome"], "passed");
  ASSERT_FALSE(report["results"].empty()) << run.out;
  for (const auto& r : report["results"])
    EXPECT_EQ(r["result"], "pass") << r.dump();
  // Boot times: power-on, then the firmware's banner, the kernel's, the test run, the end.
  auto times = phase_times(report);
  for (const char* phase : {"power-on", "firmware", "kernel", "test", "done"})
    EXPECT_TRUE(times.count(phase)) << "no " << phase << " time in " << run.out;
  EXPECT_LE(times["firmware"], times["kernel"]);
  EXPECT_LE(times["kernel"], times["test"]);
  std::string log = read_text(report["console_log"].get<std::string>());
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
TEST(LabNetboot, Ppc64ThroughSlof) {
  board_passes("qemu-ppc64", "ppc64", "SLOF");
}
TEST(LabNetboot, Ppc64leThroughSlof) {
  board_passes("qemu-ppc64le", "ppc64le", "SLOF");
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
  EXPECT_EQ(report["outcome"], "gave-up");
  EXPECT_EQ(report["attempts"].back()["end"], "timed out in firmware");
  std::string log = read_text(report["console_log"].get<std::string>());
  EXPECT_NE(log.find("iPXE"), std::string::npos);
  EXPECT_EQ(log.find("Linux version"), std::string::npos);
  EXPECT_EQ(lab_board("qemu-x86_64")["power"], "off");
}

}  // namespace
