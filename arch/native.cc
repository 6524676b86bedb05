// The one place that maps the compiler's target to an arch table.
#include "arch/arch.h"

namespace crossrig::arch {

extern const Arch kX86_64, kAarch64, kPpc64, kPpc64le, kS390x;

const Arch& native_arch() {
#if defined(__x86_64__)
  return kX86_64;
#elif defined(__aarch64__)
  return kAarch64;
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return kPpc64le;
#elif defined(__powerpc64__)
  return kPpc64;
#elif defined(__s390x__)
  return kS390x;
#else
#error "crossrig has no arch/ backend for this CPU yet"
#endif
}

}  // namespace crossrig::arch
