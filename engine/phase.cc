#include "engine/phase.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "engine/ckpt_error.h"

namespace crossrig::engine {

std::atomic<bool> g_interrupted{false};

namespace {

[[noreturn]] void interrupted(const char* phase) {
  throw CkptError(CkptError::kSystem, std::string("interrupted by a signal before phase ") + phase);
}

// With CKPT_PHASE_TIMES=FILE, one line appended to FILE per phase. The clock is the machine's
// monotonic one, so the lines of both ends of a migration on one machine (or of a restore and
// its lazy-pages server) make one timeline; each line is one append, whole even when they
// interleave.
void log_phase(const char* name) {
  static const int fd = [] {
    const char* path = std::getenv("CKPT_PHASE_TIMES");
    return path == nullptr ? -1 : ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  }();
  if (fd < 0) return;
  const auto now = std::chrono::steady_clock::now().time_since_epoch();
  char line[160];
  const int n = std::snprintf(line, sizeof line, "%.3f ms: ckpt %d: %s\n",
                              std::chrono::duration<double, std::milli>(now).count(),
                              static_cast<int>(::getpid()), name);
  if (n > 0) (void)!::write(fd, line, std::min(static_cast<std::size_t>(n), sizeof line - 1));
}

}  // namespace

void enter_phase(const char* name) {
  if (g_interrupted.load()) interrupted(name);
  log_phase(name);
  const char* faults = std::getenv("CKPT_FAULT_PHASE");
  if (faults == nullptr) return;
  std::istringstream list(faults);
  for (std::string fault; std::getline(list, fault, ',');) {
    if (fault == name)
      throw CkptError(CkptError::kSystem, std::string("fault injected at phase ") + name);
    // "PHASE:sigint" delivers a real SIGINT to ckpt there, as a user pressing ^C would.
    if (fault == std::string(name) + ":sigint") ::raise(SIGINT);
    // "PHASE:kill" dies there as a crash or the OOM killer would make ckpt die, with no
    // chance to clean up: what is left must still be consistent.
    if (fault == std::string(name) + ":kill") ::raise(SIGKILL);
    // "PHASE:stop" stops there as job control would, for a test to change the world (let
    // the tree write pages, say) before it sends SIGCONT.
    if (fault == std::string(name) + ":stop") ::raise(SIGSTOP);
  }
}

InterruptsHeld::InterruptsHeld(const char* phase) {
  sigset_t held;
  ::sigemptyset(&held);
  ::sigaddset(&held, SIGINT);
  ::sigaddset(&held, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &held, &old_);
  if (g_interrupted.load()) {
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    interrupted(phase);
  }
}

InterruptsHeld::~InterruptsHeld() {
  ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

}  // namespace crossrig::engine
