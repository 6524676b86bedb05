// The little-endian ppc64le backend (ELFv2: POWER8 and later). Registers, ABI and
// restart rules are powerpc.h's; this file adds the byte order and the syscall table.
#include <cstddef>

#if defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#include <asm/ptrace.h>
#endif

#include "arch/ppc64/powerpc.h"

namespace crossrig::arch {
namespace {

constexpr std::uint8_t kSc[] = {powerpc::kSc & 0xff, (powerpc::kSc >> 8) & 0xff,
                                (powerpc::kSc >> 16) & 0xff, powerpc::kSc >> 24};

constexpr SyscallEntry kSyscalls[] = {
#include "arch/ppc64le/syscalls.inc"
};

#if defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
static_assert(offsetof(pt_regs, nip) == 256 && offsetof(pt_regs, trap) == 320 &&
              offsetof(pt_regs, result) == 344);
#endif

}  // namespace

extern const Arch kPpc64le;
const Arch kPpc64le = {
    .name = "ppc64le",
    .endian = Endian::kLittle,
    // 64 KiB: Debian's ppc64el kernels (PPC_64K_PAGES, the Book3S-64 default).
    .page_size = 65536,
    .syscall_insn = kSc,
    .insn_align = 4,
    .regsets = powerpc::kRegsets,
    .gp_regs = powerpc::kGpRegs,
    // fpr0..fpr31 and fpscr; VMX and VSX are regsets of their own.
    .fp_regsets = powerpc::kFpRegsets,
    .vector_regsets = powerpc::kVectorRegsets,
    .pc = "nip",
    .sp = "gpr1",
    .nr = "gpr0",
    .ret = "gpr3",
    .args = {"gpr3", "gpr4", "gpr5", "gpr6", "gpr7", "gpr8"},
    // A trap that is no syscall entry: check_syscall_restart() then leaves the task alone.
    .no_syscall = {"trap", 0},
    .error_flag = {"ccr", powerpc::kCr0So},
    .tls = powerpc::kTls,
    .syscalls = kSyscalls,
    .mmap_takes_block = false,
    .syscall_stop_clobbers = {},
    .restart_fixup = powerpc::restart_fixup,
    .fp_incompatibility = fp_size_differs,
};

}  // namespace crossrig::arch
