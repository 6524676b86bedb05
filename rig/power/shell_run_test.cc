#include "rig/power/shell_run.h"

#include <gtest/gtest.h>

namespace crossrig::rig {
namespace {

using namespace std::chrono_literals;

TEST(ShellRun, OutputAndExitCode) {
  ShellResult r = run_shell("echo ON; exit 3", 10s);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "ON\n");
}

TEST(ShellRun, StdinIsEmpty) {
  ShellResult r = run_shell("cat; echo done", 10s);
  EXPECT_EQ(r.output, "done\n");
  EXPECT_EQ(r.exit_code, 0);
}

TEST(ShellRun, HungCommandIsKilledWithItsChildren) {
  ShellResult r = run_shell("sleep 30 | cat", 200ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
}

TEST(ShellRun, DaemonHoldingOutputDoesNotHangUs) {
  ShellResult r = run_shell("echo hi; exec sleep 30", 300ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.output, "hi\n");
}

}  // namespace
}  // namespace crossrig::rig
