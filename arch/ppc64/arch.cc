// The big-endian ppc64 backend (ELFv1: PowerXCell 8i, POWER in BE mode). Registers, ABI and
// restart rules are powerpc.h's; this file adds the byte order and the syscall table.
#include <cstddef>

#if defined(__powerpc64__) && !defined(__LITTLE_ENDIAN__)
#include <asm/ptrace.h>
#endif

#include "arch/ppc64/powerpc.h"

namespace crossrig::arch {
namespace {

constexpr std::uint8_t kSc[] = {powerpc::kSc >> 24, (powerpc::kSc >> 16) & 0xff,
                                (powerpc::kSc >> 8) & 0xff, powerpc::kSc & 0xff};

constexpr SyscallEntry kSyscalls[] = {
#include "arch/ppc64/syscalls.inc"
};

#if defined(__powerpc64__) && !defined(__LITTLE_ENDIAN__)
static_assert(offsetof(pt_regs, nip) == 256 && offsetof(pt_regs, trap) == 320 &&
              offsetof(pt_regs, result) == 344);
#endif

}  // namespace

extern const Arch kPpc64;
const Arch kPpc64 = {
    .name = "ppc64",
    .endian = Endian::kBig,
    // 64 KiB: the default of every 64-bit Book3S kernel (pseries, powernv, cell_defconfig),
    // Debian's and the lab's pseries-be.config. ps3_defconfig and g5_defconfig pick 4 KiB;
    // restore compares the image's page size with the host's.
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
