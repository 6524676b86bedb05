// Live values in the general-purpose registers x0..x28 across checkpoint/restore, caught in a
// loop of user code (never in a syscall), as a computation is: each register holds a value of
// its own from before the dump to after the restore. The restore writes registers while the task
// is held in ptrace stops; on arm64, leaving a syscall stop puts back x7 whatever was written
// there, which the writer tracee (its (pass + 1) << 40 in x7) showed as values no pass computes.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr int kRegs = 29;  // x0..x28; x29 is the frame pointer, x30 the loop's own

// The asm reaches it by name: every register but x30 holds a value, none is left to pass an
// address in. [0] is the stop flag's address, then the values loaded, then the values stored.
extern "C" {
alignas(16) std::uint64_t crossrig_gp_regs_block[1 + 2 * kRegs] = {};
}

std::uint64_t value(int reg) {
  return (static_cast<std::uint64_t>(reg) + 1) * 0x9e3779b97f4a7c15ULL;
}

void setup() {
  crossrig_gp_regs_block[0] = reinterpret_cast<std::uintptr_t>(stop_flag());
  for (int r = 0; r < kRegs; ++r)
    crossrig_gp_regs_block[1 + r] = value(r);
}

void wait() {
  asm volatile(
      "adrp x30, crossrig_gp_regs_block\n"
      "add x30, x30, :lo12:crossrig_gp_regs_block\n"
      "add x30, x30, #8\n"
      "ldp x0, x1, [x30], #16\n"
      "ldp x2, x3, [x30], #16\n"
      "ldp x4, x5, [x30], #16\n"
      "ldp x6, x7, [x30], #16\n"
      "ldp x8, x9, [x30], #16\n"
      "ldp x10, x11, [x30], #16\n"
      "ldp x12, x13, [x30], #16\n"
      "ldp x14, x15, [x30], #16\n"
      "ldp x16, x17, [x30], #16\n"
      "ldp x18, x19, [x30], #16\n"
      "ldp x20, x21, [x30], #16\n"
      "ldp x22, x23, [x30], #16\n"
      "ldp x24, x25, [x30], #16\n"
      "ldp x26, x27, [x30], #16\n"
      "ldr x28, [x30]\n"
      // Until SIGTERM: x30 alone reaches the flag, through the block.
      "1: yield\n"
      "adrp x30, crossrig_gp_regs_block\n"
      "add x30, x30, :lo12:crossrig_gp_regs_block\n"
      "ldr x30, [x30]\n"
      "ldr w30, [x30]\n"
      "cbz w30, 1b\n"
      "adrp x30, crossrig_gp_regs_block\n"
      "add x30, x30, :lo12:crossrig_gp_regs_block\n"
      "add x30, x30, #8 + 8 * 29\n"
      "stp x0, x1, [x30], #16\n"
      "stp x2, x3, [x30], #16\n"
      "stp x4, x5, [x30], #16\n"
      "stp x6, x7, [x30], #16\n"
      "stp x8, x9, [x30], #16\n"
      "stp x10, x11, [x30], #16\n"
      "stp x12, x13, [x30], #16\n"
      "stp x14, x15, [x30], #16\n"
      "stp x16, x17, [x30], #16\n"
      "stp x18, x19, [x30], #16\n"
      "stp x20, x21, [x30], #16\n"
      "stp x22, x23, [x30], #16\n"
      "stp x24, x25, [x30], #16\n"
      "stp x26, x27, [x30], #16\n"
      "str x28, [x30]\n"
      :
      :
      : "memory", "cc", "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
        "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24",
        "x25", "x26", "x27", "x28", "x30");
}

std::optional<std::string> check() {
  std::string wrong;
  for (int r = 0; r < kRegs; ++r) {
    const std::uint64_t got = crossrig_gp_regs_block[1 + kRegs + r];
    if (got == value(r)) continue;
    char line[96];
    std::snprintf(line, sizeof line, "%sx%d is 0x%" PRIx64 ", not 0x%" PRIx64,
                  wrong.empty() ? "" : "; ", r, got, value(r));
    wrong += line;
  }
  if (wrong.empty()) return std::nullopt;
  return wrong;
}

}  // namespace
const Test kTest{setup, wait, check};
}  // namespace crossrig::tracee
