#include "engine/phase.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/ckpt_error.h"

namespace crossrig::engine {

std::atomic<bool> g_interrupted{false};

void enter_phase(const char* name) {
  if (g_interrupted.load()) {
    throw CkptError(CkptError::kSystem,
                    std::string("interrupted by a signal before phase ") + name);
  }
  const char* fault = std::getenv("CKPT_FAULT_PHASE");
  if (fault != nullptr && std::strcmp(fault, name) == 0) {
    throw CkptError(CkptError::kSystem, std::string("fault injected at phase ") + name);
  }
}

}  // namespace crossrig::engine
