// NEON state held in all 32 vector registers v0..v31 across checkpoint/restore (NT_PRFPREG).
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

void wait() {
  asm volatile(
      "mov x9, %0\n"
      "ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x9], #64\n"
      "ld1 {v4.16b, v5.16b, v6.16b, v7.16b}, [x9], #64\n"
      "ld1 {v8.16b, v9.16b, v10.16b, v11.16b}, [x9], #64\n"
      "ld1 {v12.16b, v13.16b, v14.16b, v15.16b}, [x9], #64\n"
      "ld1 {v16.16b, v17.16b, v18.16b, v19.16b}, [x9], #64\n"
      "ld1 {v20.16b, v21.16b, v22.16b, v23.16b}, [x9], #64\n"
      "ld1 {v24.16b, v25.16b, v26.16b, v27.16b}, [x9], #64\n"
      "ld1 {v28.16b, v29.16b, v30.16b, v31.16b}, [x9], #64\n"
      "1: yield\n"
      "ldr w10, [%2]\n"
      "cbz w10, 1b\n"
      "mov x9, %1\n"
      "st1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x9], #64\n"
      "st1 {v4.16b, v5.16b, v6.16b, v7.16b}, [x9], #64\n"
      "st1 {v8.16b, v9.16b, v10.16b, v11.16b}, [x9], #64\n"
      "st1 {v12.16b, v13.16b, v14.16b, v15.16b}, [x9], #64\n"
      "st1 {v16.16b, v17.16b, v18.16b, v19.16b}, [x9], #64\n"
      "st1 {v20.16b, v21.16b, v22.16b, v23.16b}, [x9], #64\n"
      "st1 {v24.16b, v25.16b, v26.16b, v27.16b}, [x9], #64\n"
      "st1 {v28.16b, v29.16b, v30.16b, v31.16b}, [x9], #64\n"
      :
      : "r"(g_in), "r"(g_out), "r"(stop_flag())
      : "memory", "cc", "x9", "x10", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9",
        "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22",
        "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
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
