// AVX state held in all sixteen ymm registers across checkpoint/restore (xsave).
#include <cstdint>
#include <cstring>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

alignas(32) std::uint8_t g_in[16 * 32], g_out[16 * 32];

void setup() {
  for (std::size_t i = 0; i < sizeof g_in; ++i)
    g_in[i] = static_cast<std::uint8_t>(i * 7 + 3);
}

void wait() {
  asm volatile(
      "vmovdqu 0(%0), %%ymm0\n vmovdqu 32(%0), %%ymm1\n vmovdqu 64(%0), %%ymm2\n"
      "vmovdqu 96(%0), %%ymm3\n vmovdqu 128(%0), %%ymm4\n vmovdqu 160(%0), %%ymm5\n"
      "vmovdqu 192(%0), %%ymm6\n vmovdqu 224(%0), %%ymm7\n vmovdqu 256(%0), %%ymm8\n"
      "vmovdqu 288(%0), %%ymm9\n vmovdqu 320(%0), %%ymm10\n vmovdqu 352(%0), %%ymm11\n"
      "vmovdqu 384(%0), %%ymm12\n vmovdqu 416(%0), %%ymm13\n vmovdqu 448(%0), %%ymm14\n"
      "vmovdqu 480(%0), %%ymm15\n"
      "1: pause\n cmpl $0, (%2)\n je 1b\n"
      "vmovdqu %%ymm0, 0(%1)\n vmovdqu %%ymm1, 32(%1)\n vmovdqu %%ymm2, 64(%1)\n"
      "vmovdqu %%ymm3, 96(%1)\n vmovdqu %%ymm4, 128(%1)\n vmovdqu %%ymm5, 160(%1)\n"
      "vmovdqu %%ymm6, 192(%1)\n vmovdqu %%ymm7, 224(%1)\n vmovdqu %%ymm8, 256(%1)\n"
      "vmovdqu %%ymm9, 288(%1)\n vmovdqu %%ymm10, 320(%1)\n vmovdqu %%ymm11, 352(%1)\n"
      "vmovdqu %%ymm12, 384(%1)\n vmovdqu %%ymm13, 416(%1)\n vmovdqu %%ymm14, 448(%1)\n"
      "vmovdqu %%ymm15, 480(%1)\n vzeroupper\n"
      :
      : "r"(g_in), "r"(g_out), "r"(stop_flag())
      : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

std::optional<std::string> check() {
  for (std::size_t i = 0; i < sizeof g_in; ++i)
    if (g_in[i] != g_out[i])
      return "ymm" + std::to_string(i / 32) + " byte " + std::to_string(i % 32) + " differs";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, wait, check};
}  // namespace crossrig::tracee
