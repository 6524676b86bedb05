// Vector facility state held in all 32 vector registers v0..v31 across checkpoint/restore:
// f0..f15 (NT_PRFPREG), NT_S390_VXRS_LOW and NT_S390_VXRS_HIGH together.
#include <cstdint>
#include <cstring>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

alignas(16) std::uint8_t g_in[32 * 16], g_out[32 * 16];

void setup() {
  for (std::size_t i = 0; i < sizeof g_in; ++i)
    g_in[i] = static_cast<std::uint8_t>(i * 7 + 3);
}

// "a": an address register, never r0, which as a base means the value 0.
void wait() {
  asm volatile(
      ".machine push\n"
      ".machine z13\n"
      "vlm %%v0, %%v15, 0(%0)\n"
      "vlm %%v16, %%v31, 256(%0)\n"
      "1: l %%r1, 0(%2)\n"
      "ltr %%r1, %%r1\n"
      "jz 1b\n"
      "vstm %%v0, %%v15, 0(%1)\n"
      "vstm %%v16, %%v31, 256(%1)\n"
      ".machine pop\n"
      :
      : "a"(g_in), "a"(g_out), "a"(stop_flag())
      : "memory", "cc", "r1", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10",
        "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23",
        "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
}

std::optional<std::string> check() {
  for (std::size_t i = 0; i < sizeof g_in; ++i)
    if (g_in[i] != g_out[i])
      return "v" + std::to_string(i / 16) + " byte " + std::to_string(i % 16) + " differs";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, wait, check};
}  // namespace crossrig::tracee
