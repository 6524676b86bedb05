#include "engine/phase.h"

#include <signal.h>

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

}  // namespace

void enter_phase(const char* name) {
  if (g_interrupted.load()) interrupted(name);
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
