#include "engine/action_scripts.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "tests/support/file_text.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

using test_support::file_text;

TEST(ActionScripts, NamesEachActionAsCriuDoes) {
  EXPECT_EQ(action_name(ScriptAction::kPreDump), "pre-dump");
  EXPECT_EQ(action_name(ScriptAction::kPostDump), "post-dump");
  EXPECT_EQ(action_name(ScriptAction::kPreRestore), "pre-restore");
  EXPECT_EQ(action_name(ScriptAction::kPostRestore), "post-restore");
  EXPECT_EQ(action_name(ScriptAction::kPostResume), "post-resume");
}

TEST(ActionScripts, EnvironmentReplacesInheritedVariablesOfItsOwn) {
  const std::vector<std::string> env =
      script_environment({"PATH=/bin", "CKPT_SCRIPT_ACTION=stale", "CKPT_INIT_PID=1",
                          "CKPT_IMAGE_DIR=/old", "CKPT_CONFIG=/etc/x"},
                         ScriptAction::kPostRestore, 4242, "/img/dir/");
  const std::vector<std::string> want = {"PATH=/bin", "CKPT_CONFIG=/etc/x",
                                         "CKPT_SCRIPT_ACTION=post-restore", "CKPT_INIT_PID=4242",
                                         "CKPT_IMAGE_DIR=/img/dir"};
  EXPECT_EQ(env, want);
}

TEST(ActionScripts, ImageDirIsMadeAbsolute) {
  const std::vector<std::string> env =
      script_environment({}, ScriptAction::kPreDump, 1, "rel/./img");
  ASSERT_EQ(env.size(), 3u);
  EXPECT_EQ(env[2], "CKPT_IMAGE_DIR=" + (std::filesystem::current_path() / "rel/img").string());
}

TEST(ActionScripts, DescribesExitAndSignal) {
  EXPECT_EQ(describe_wait_status(3 << 8), "exited with status 3");
  EXPECT_EQ(describe_wait_status(SIGKILL), "was killed by signal 9 (Killed)");
}

// Real scripts run by /bin/sh.
class ActionScriptsRun : public ::testing::Test {
 protected:
  // A script named name with body after its #! line; returns its path.
  std::string script(const std::string& name, const std::string& body, mode_t mode = 0755) {
    const std::string path = (dir_.path() / name).string();
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), mode);
    return path;
  }
  // The message of the CkptError that running scripts at action throws, or "" if none.
  static std::string failure(const ActionScripts& s, ScriptAction action) {
    try {
      s.run(action, 77, "/img");
    } catch (const CkptError& e) {
      EXPECT_EQ(e.kind(), CkptError::kSystem);
      return e.what();
    }
    return "";
  }

  test_support::TempDir dir_{"action-scripts-test"};
  const std::string log_ = (dir_.path() / "log").string();
};

TEST_F(ActionScriptsRun, EachRunsInOrderWithItsVariablesStdinFromDevNullAndNoOtherFd) {
  // Left open across exec by ckpt's mistake: the script must not get it.
  // Far above the descriptors the shell opens itself.
  UniqueFd leak(::fcntl(UniqueFd(::open("/dev/null", O_RDONLY)).get(), F_DUPFD, 200));
  ASSERT_TRUE(leak);
  const std::string body = "[ -e /proc/$$/fd/" + std::to_string(leak.get()) +
                           " ] && leaked=leaked\n"
                           "echo \"$0 $CKPT_SCRIPT_ACTION $CKPT_INIT_PID $CKPT_IMAGE_DIR "
                           "$(readlink /proc/$$/fd/0) $leaked\" >> " +
                           log_ + "\n";
  const std::string a = script("a", body), b = script("b", body);
  // ckpt's own stdin a pipe (ctest gives tests /dev/null), which the scripts must not get.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd read_end(p[0]), write_end(p[1]), own_stdin(::dup(STDIN_FILENO));
  ASSERT_EQ(::dup2(read_end.get(), STDIN_FILENO), STDIN_FILENO);
  ActionScripts({a, b}).run(ScriptAction::kPostDump, 77, "/img");
  ::dup2(own_stdin.get(), STDIN_FILENO);
  EXPECT_EQ(file_text(log_),
            a + " post-dump 77 /img /dev/null \n" + b + " post-dump 77 /img /dev/null \n");
}

TEST_F(ActionScriptsRun, AFailureNamesTheScriptActionAndStatusAndStopsTheRest) {
  const std::string bad = script("bad", "exit 3\n");
  const std::string after = script("after", "echo ran >> " + log_ + "\n");
  const std::string what = failure(ActionScripts({bad, after}), ScriptAction::kPreDump);
  EXPECT_NE(what.find("action script " + bad + " exited with status 3 at pre-dump of process 77"),
            std::string::npos)
      << what;
  EXPECT_EQ(file_text(log_), "");
}

TEST_F(ActionScriptsRun, AKilledScriptFails) {
  const std::string what =
      failure(ActionScripts({script("killed", "kill -9 $$\n")}), ScriptAction::kPostRestore);
  EXPECT_NE(what.find("was killed by signal 9"), std::string::npos) << what;
  EXPECT_NE(what.find("post-restore"), std::string::npos) << what;
}

TEST_F(ActionScriptsRun, AScriptThatCannotBeExecutedFails) {
  const std::string plain = script("plain", "exit 0\n", 0644);
  std::string what = failure(ActionScripts({plain}), ScriptAction::kPreRestore);
  EXPECT_NE(what.find(plain + " could not be run (Permission denied"), std::string::npos) << what;
  const std::string missing = (dir_.path() / "missing").string();
  what = failure(ActionScripts({missing}), ScriptAction::kPreRestore);
  EXPECT_NE(what.find(missing + " could not be run (No such file"), std::string::npos) << what;
}

TEST_F(ActionScriptsRun, AtPostResumeAFailureIsOnlyReportedAndTheRestRun) {
  const std::string after = script("after", "echo ran >> " + log_ + "\n");
  testing::internal::CaptureStderr();
  ActionScripts({script("bad", "exit 1\n"), after}).run(ScriptAction::kPostResume, 77, "/img");
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(file_text(log_), "ran\n");
  EXPECT_NE(err.find("exited with status 1 at post-resume"), std::string::npos) << err;
}

}  // namespace
}  // namespace crossrig::engine
