// A kernel file is whatever the user names: the rewrite for SLOF must take any bytes, refusing
// with std::invalid_argument, and never read outside them or write more than it can justify.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "rig/boot/slof_kernel.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view elf(reinterpret_cast<const char*>(data), size);
  try {
    auto out = crossrig::rig::boot::slof_loadable_kernel(elf);
    // Headers, at most 64 segments of padding, the descriptor: bounded by the input.
    if (out && out->size() > size + (65 << 16) + 4096) std::abort();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
