#pragma once
// What big-endian ppc64 (ELFv1) and ppc64le (ELFv2) share: struct pt_regs, the sc syscall ABI
// and the kernel's restart rules (arch/powerpc/kernel/signal.c). Only byte order differs.

#include <string_view>

#include "arch/arch.h"
#include "arch/regs.h"
#include "arch/restart_codes.h"

namespace crossrig::arch::powerpc {

/// sc, 0x44000002; each arch stores it in its byte order.
inline constexpr std::uint32_t kSc = 0x44000002;

inline constexpr unsigned kNtPrstatus = 1, kNtPrfpreg = 2;
inline constexpr FpRegset kFpRegsets[] = {{kNtPrfpreg, 0}};
/// NT_PPC_VMX: vr0..vr31, vscr, vrsave; NT_PPC_VSX: the low doublewords of vsr0..vsr31 (their
/// high ones are fpr0..fpr31, in NT_PRFPREG).
inline constexpr VectorRegset kVectorRegsets[] = {{0x100, "vmx"}, {0x102, "vsx"}};

/// NT_PRSTATUS: struct pt_regs (44 words) padded with zeros to ELF_NGREG (48) words.
inline constexpr Regset kRegsets[] = {{kNtPrstatus, 48 * 8}};

inline constexpr RegDesc kGpRegs[] = {
    {"gpr0", 0, 8},    {"gpr1", 8, 8},    {"gpr2", 16, 8},       {"gpr3", 24, 8},
    {"gpr4", 32, 8},   {"gpr5", 40, 8},   {"gpr6", 48, 8},       {"gpr7", 56, 8},
    {"gpr8", 64, 8},   {"gpr9", 72, 8},   {"gpr10", 80, 8},      {"gpr11", 88, 8},
    {"gpr12", 96, 8},  {"gpr13", 104, 8}, {"gpr14", 112, 8},     {"gpr15", 120, 8},
    {"gpr16", 128, 8}, {"gpr17", 136, 8}, {"gpr18", 144, 8},     {"gpr19", 152, 8},
    {"gpr20", 160, 8}, {"gpr21", 168, 8}, {"gpr22", 176, 8},     {"gpr23", 184, 8},
    {"gpr24", 192, 8}, {"gpr25", 200, 8}, {"gpr26", 208, 8},     {"gpr27", 216, 8},
    {"gpr28", 224, 8}, {"gpr29", 232, 8}, {"gpr30", 240, 8},     {"gpr31", 248, 8},
    {"nip", 256, 8},   {"msr", 264, 8},   {"orig_gpr3", 272, 8}, {"ctr", 280, 8},
    {"link", 288, 8},  {"xer", 296, 8},   {"ccr", 304, 8},       {"softe", 312, 8},
    {"trap", 320, 8},  {"dar", 328, 8},   {"dsisr", 336, 8},     {"result", 344, 8},
};

/// The thread pointer of the 64-bit ABIs.
inline constexpr std::string_view kTls[] = {"gpr13"};

/// CR0.SO in ccr: set when sc returns an error, gpr3 then holding the positive errno.
inline constexpr std::uint64_t kCr0So = 0x10000000;

/// trap values of the syscall entries (the low bit flags "no restart"): sc and scv.
inline constexpr std::uint64_t kTrapSc = 0xc00, kTrapScv = 0x3000, kTrapNoRestart = 1;

/// check_syscall_restart() of the kernel with no handler: the stop comes before it, in
/// get_signal(), so a dumped task still shows the error. After sc an error is gpr3 = errno
/// with CR0.SO; after scv gpr3 = -errno.
inline void restart_fixup(Regs& regs, RestartTarget target) {
  const std::uint64_t trap = regs.get("trap");
  const bool scv = (trap & ~kTrapNoRestart) == kTrapScv;
  if ((trap & ~kTrapNoRestart) != kTrapSc && !scv) return;
  if ((trap & kTrapNoRestart) != 0) return;
  std::int64_t err = 0;
  if (scv) {
    err = -regs.get_signed("gpr3");
  } else if ((regs.get("ccr") & kCr0So) != 0) {
    err = regs.get_signed("gpr3");
  }
  const bool restart_block = err == kErestartRestartblock;
  if (err != kErestartsys && err != kErestartnointr && err != kErestartnohand && !restart_block)
    return;
  if (restart_block && target == RestartTarget::kNewTask) {
    // The restart block stays in the dumped kernel: the call fails with EINTR instead.
    regs.set("result", static_cast<std::uint64_t>(-kEintr));
    regs.set("gpr3", static_cast<std::uint64_t>(scv ? -kEintr : kEintr));
    if (!scv) regs.set("ccr", regs.get("ccr") | kCr0So);
    return;
  }
  if (restart_block) {
    regs.set("gpr0", static_cast<std::uint64_t>(syscall_nr(regs.arch(), "restart_syscall")));
  } else {
    regs.set("gpr3", regs.get("orig_gpr3"));
  }
  regs.set("nip", regs.get("nip") - 4);
  regs.set("result", 0);
  // The kernel then flags the trap "no restart", a bit ptrace cannot write. Clearing CR0.SO,
  // which the sc about to run rewrites anyway, keeps a signal taken before it from making the
  // kernel act on the same error twice.
  if (!scv) regs.set("ccr", regs.get("ccr") & ~kCr0So);
}

}  // namespace crossrig::arch::powerpc
