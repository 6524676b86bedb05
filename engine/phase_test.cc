#include "engine/phase.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

class Phase : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("CKPT_FAULT_PHASE"); }
};

TEST_F(Phase, NothingHappensWithoutAFault) {
  ::unsetenv("CKPT_FAULT_PHASE");
  EXPECT_NO_THROW(enter_phase("dump-pages"));
}

TEST_F(Phase, EveryPhaseOfTheListFailsAndNoOther) {
  ::setenv("CKPT_FAULT_PHASE", "dump-freeze,dump-pages", 1);
  EXPECT_THROW(enter_phase("dump-freeze"), CkptError);
  EXPECT_THROW(enter_phase("dump-pages"), CkptError);
  EXPECT_NO_THROW(enter_phase("dump-pages-more"));
  EXPECT_NO_THROW(enter_phase("dump"));
}

// The test holding ckpt stopped at a phase sees it stopped there, and it goes on at SIGCONT
// to the next fault of the list.
TEST_F(Phase, StopHoldsThePhaseUntilSigcont) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setenv("CKPT_FAULT_PHASE", "migrate-final:stop,migrate-post-copy:kill", 1);
    enter_phase("migrate-round");
    enter_phase("migrate-final");
    enter_phase("migrate-post-copy");
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, WUNTRACED), child);
  ASSERT_TRUE(WIFSTOPPED(status));
  ::kill(child, SIGCONT);
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

}  // namespace
}  // namespace crossrig::engine
