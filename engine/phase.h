#pragma once

#include <signal.h>

#include <atomic>

namespace crossrig::engine {

/// Set by the CLI's SIGINT/SIGTERM handler; long operations give up at the next phase.
extern std::atomic<bool> g_interrupted;

/// Marks the start of a named phase: throws if the user interrupted us, or if the
/// CKPT_FAULT_PHASE environment variable (a comma-separated list) names this phase;
/// "PHASE:sigint" raises SIGINT there instead, "PHASE:kill" SIGKILL, "PHASE:stop" SIGSTOP
/// (all used by the fault tests). With CKPT_PHASE_TIMES=FILE it also appends the time
/// (CLOCK_MONOTONIC, ms), ckpt's PID and the phase to FILE: where a dump or a migration spends
/// its time.
void enter_phase(const char* name);

/// Holds SIGINT and SIGTERM back while it lives: past a commit to another host, work must
/// finish rather than give up half-way. Throws as enter_phase does if one came before.
class InterruptsHeld {
 public:
  explicit InterruptsHeld(const char* phase);
  ~InterruptsHeld();
  InterruptsHeld(const InterruptsHeld&) = delete;
  InterruptsHeld& operator=(const InterruptsHeld&) = delete;

 private:
  sigset_t old_;
};

}  // namespace crossrig::engine
