#include "engine/ptrace_task.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace crossrig::engine {
namespace {

// Forks a parent that forks a child and waits for it; returns {parent, child}. The parent
// exits 0 once it has reaped a child killed by SIGKILL.
std::pair<pid_t, pid_t> parent_and_child() {
  int report[2];
  if (::pipe(report) != 0) return {-1, -1};
  const pid_t parent = ::fork();
  if (parent == 0) {
    const pid_t child = ::fork();
    if (child == 0) {
      for (;;)
        ::pause();
    }
    if (::write(report[1], &child, sizeof child) != sizeof child) ::_exit(2);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::_exit(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 1);
  }
  ::close(report[1]);
  pid_t child = -1;
  if (::read(report[0], &child, sizeof child) != sizeof child) child = -1;
  ::close(report[0]);
  return {parent, child};
}

// The parent's exit status once it exits, or -1 if it still waits after 30 s (then it is
// killed).
int exit_of(pid_t parent) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (::waitpid(parent, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      ::kill(parent, SIGKILL);
      ::waitpid(parent, nullptr, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A long-lived tracer (ckpt service) must not keep a process it held, and someone else killed,
// as a zombie its parent waits for in vain.
TEST(TraceeRelease, AThreadKilledWhileHeldIsDetachedWithoutErrorAndItsParentReapsIt) {
  const auto [parent, child] = parent_and_child();
  ASSERT_GT(child, 0);
  {
    Tracee held = Tracee::seize(child);
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    EXPECT_NO_THROW(held.detach());
  }
  EXPECT_EQ(exit_of(parent), 0) << "the parent reaped its killed child";
}

TEST(TraceeRelease, ATracerLettingGoOfAKilledThreadLetsItsParentReapIt) {
  const auto [parent, child] = parent_and_child();
  ASSERT_GT(child, 0);
  {
    Tracee held = Tracee::seize(child);
    ASSERT_EQ(::kill(child, SIGKILL), 0);
  }
  EXPECT_EQ(exit_of(parent), 0) << "the parent reaped its killed child";
}

TEST(TraceeRelease, ADetachedThreadRunsOnUntraced) {
  const auto [parent, child] = parent_and_child();
  ASSERT_GT(child, 0);
  Tracee::seize(child).detach();
  EXPECT_EQ(::kill(child, SIGKILL), 0);
  EXPECT_EQ(exit_of(parent), 0);
}

}  // namespace
}  // namespace crossrig::engine
