#pragma once

#include <atomic>

namespace crossrig::engine {

/// Set by the CLI's SIGINT/SIGTERM handler; long operations give up at the next phase.
extern std::atomic<bool> g_interrupted;

/// Marks the start of a named phase: throws if the user interrupted us, or if the
/// CKPT_FAULT_PHASE environment variable names this phase; "PHASE:sigint" raises SIGINT
/// there instead, "PHASE:kill" SIGKILL (all used by the fault tests).
void enter_phase(const char* name);

}  // namespace crossrig::engine
