// rig lab's command line and supervisor without booting anything (label integration): usage
// errors, a missing manifest, and a one-board lab brought up, power-switched through its
// emulated plug and taken down, leaving no namespace and no process behind.

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "plugctl/sim/plugsim_process.h"
#include "tests/support/file_text.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using crossrig::plugsim::CommandResult;
using crossrig::plugsim::run_command;
using crossrig::test_support::file_text;
using crossrig::test_support::TempDir;
using namespace std::chrono_literals;

const std::string kRig = CROSSRIG_BINARY_DIR "/bin/rig";

class RigLab : public ::testing::Test {
 protected:
  void SetUp() override {
    // The supervisor `rig lab up` leaves is reparented here and reaped here.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    // Set here, not appended to the children's environment, where an inherited value would
    // come first.
    setenv("XDG_RUNTIME_DIR", (dir_.path() / "run").c_str(), 1);
    setenv("XDG_CACHE_HOME", (dir_.path() / "cache").c_str(), 1);
    fs::create_directories(dir_.path() / "run");
  }
  void TearDown() override {
    run({"lab", "down"});
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
  CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), kRig);
    return run_command(args, 120s);
  }
  // A manifest whose files exist; nothing boots them in these tests.
  void fake_manifest(const std::string& arch) {
    fs::path d = dir_.path() / "cache/crossrig/lab" / arch;
    fs::create_directories(d);
    std::ofstream(d / "kernel") << "not a kernel";
    std::ofstream(d / "ramdisk") << "not a ramdisk";
    std::ofstream(d / "manifest.json") << nlohmann::json{
        {"arch", arch},
        {"kernel", (d / "kernel").string()},
        {"ramdisk", (d / "ramdisk").string()}}.dump();
  }
  nlohmann::json status_board() {
    CommandResult status = run({"lab", "status", "--json"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    auto boards = nlohmann::json::parse(status.out, nullptr, false);
    return boards.is_array() && boards.size() == 1 ? boards[0] : nlohmann::json{};
  }
  // Waits for the supervisor to carry out what the plug says (it does so after the plug
  // answers); the test's own timeout bounds a supervisor that never does.
  void wait_running(bool running) {
    while (status_board().value("running", !running) != running)
      std::this_thread::sleep_for(200ms);
  }

  TempDir dir_{"rig-lab-cli"};
};

TEST_F(RigLab, UsageErrorsExit2) {
  for (std::vector<std::string> args : {std::vector<std::string>{"lab"},
                                        {"lab", "frob"},
                                        {"lab", "up", "--boards", "vax"},
                                        {"lab", "status", "--boards", "x86_64"},
                                        {"lab", "up", "--bogus"}}) {
    CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_NE(r.err.find("rig lab --help"), std::string::npos) << r.err;
  }
  CommandResult help = run({"lab", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
}

TEST_F(RigLab, MissingBootFilesSayWhichCommandMakesThem) {
  CommandResult up = run({"lab", "up", "--boards", "s390x"});
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.err.find("run toolchains/lab-images s390x"), std::string::npos) << up.err;
  CommandResult status = run({"lab", "status"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.err.find("no lab is up"), std::string::npos) << status.err;
  EXPECT_EQ(run({"lab", "down"}).exit_code, 0) << "down without a lab is no error";
}

TEST_F(RigLab, UpPowerCycleDownLeavesNothingBehind) {
  fake_manifest("x86_64");
  CommandResult up = run({"lab", "up", "--boards", "x86_64", "--json"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  auto boards = nlohmann::json::parse(up.out);
  ASSERT_EQ(boards.size(), 1u);
  EXPECT_EQ(boards[0]["name"], "qemu-x86_64");
  EXPECT_EQ(boards[0]["arch"], "x86_64");
  EXPECT_EQ(boards[0]["boot"], "ipxe");
  EXPECT_EQ(boards[0]["power"], "off");
  EXPECT_EQ(boards[0]["running"], false);

  fs::path state = dir_.path() / "run/rig/lab";
  auto lab = nlohmann::json::parse(file_text(state / "lab.json"));
  std::string netns = lab["netns"];
  int supervisor = lab["supervisor_pid"];
  EXPECT_TRUE(fs::exists("/run/netns/" + netns));
  // rig finds the lab's inventory first.
  EXPECT_EQ(file_text(dir_.path() / "run/rig/lab-inventory"),
            (state / "inventory.yaml").string() + "\n");

  CommandResult again = run({"lab", "up", "--boards", "x86_64"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already up"), std::string::npos) << again.err;

  // Power goes through the board's emulated plug, as for a real board.
  ASSERT_EQ(run({"power", "qemu-x86_64", "on"}).exit_code, 0);
  wait_running(true);
  EXPECT_EQ(status_board()["power"], "on");
  ASSERT_EQ(run({"power", "qemu-x86_64", "off"}).exit_code, 0);
  wait_running(false);
  ASSERT_EQ(run({"power", "qemu-x86_64", "cycle", "--off-time", "0"}).exit_code, 0);
  wait_running(true);

  CommandResult down = run({"lab", "down"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_FALSE(fs::exists("/run/netns/" + netns));
  EXPECT_FALSE(fs::exists(dir_.path() / "run/rig/lab-inventory"));
  // The supervisor ended after reaping every lab process; as its subreaper we reap it.
  int status = 0;
  EXPECT_EQ(waitpid(supervisor, &status, 0), supervisor);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1) << "no other process of the lab is left";
}

}  // namespace
