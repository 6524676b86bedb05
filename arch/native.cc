// The one place that maps the compiler's target to an arch table.
#include "arch/arch.h"

namespace crossrig::arch {

extern const Arch kX86_64;

const Arch& native_arch() {
#if defined(__x86_64__)
  return kX86_64;
#else
#error "crossrig has no arch/ backend for this CPU yet"
#endif
}

}  // namespace crossrig::arch
