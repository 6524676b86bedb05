#include "bench/harness/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace crossrig::bench {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ChildProcess, CapturesOutputEnvironmentAndExitCode) {
  test_support::TempDir dir("child-process-test");
  auto out = dir.path() / "out", err = dir.path() / "err";
  ChildOptions o;
  o.out = out;
  o.err = err;
  o.env = {"GREETING=hello there"};
  ChildProcess child({"sh", "-c", "echo \"$GREETING\"; echo oops >&2; read x; exit 3"}, o);
  EXPECT_EQ(child.wait(), 3);
  EXPECT_FALSE(child.running());
  EXPECT_EQ(slurp(out), "hello there\n");
  EXPECT_EQ(slurp(err), "oops\n");
  EXPECT_EQ(getenv("GREETING"), nullptr) << "the parent's environment must stay as it was";
}

TEST(ChildProcess, SharedOutputFileKeepsBothStreams) {
  test_support::TempDir dir("child-process-test");
  auto log = dir.path() / "log";
  ChildOptions o;
  o.out = log;
  o.err = log;
  ChildProcess child({"sh", "-c", "echo one; echo two >&2; echo three"}, o);
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(slurp(log), "one\ntwo\nthree\n");
}

TEST(ChildProcess, StopSignalsAndReportsTheSignal) {
  ChildProcess child({"sleep", "1000"});
  EXPECT_TRUE(child.running());
  EXPECT_EQ(child.wait(std::chrono::milliseconds(1)), -1);
  EXPECT_EQ(child.stop(SIGTERM), 128 + SIGTERM);
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, MissingProgramExits127) {
  ChildProcess child({"/nonexistent/program"});
  EXPECT_EQ(child.wait(), 127);
}

}  // namespace
}  // namespace crossrig::bench
