// The aarch64 backend: struct user_pt_regs plus the two regsets holding what it lacks (the
// thread pointer, NT_ARM_TLS, and the syscall number the kernel is in, NT_ARM_SYSTEM_CALL), the
// syscall ABI (svc #0, number in x8, x0 both first argument and result) and restart rules.
#if defined(__aarch64__)
#include <asm/ptrace.h>

#include <cstddef>
#endif

#include "arch/arch.h"
#include "arch/regs.h"

namespace crossrig::arch {
namespace {

// svc #0 (0xd4000001), stored little-endian.
constexpr std::uint8_t kSvc0[] = {0x01, 0x00, 0x00, 0xd4};

constexpr unsigned kNtPrstatus = 1, kNtPrfpreg = 2, kNtArmTls = 0x401, kNtArmSystemCall = 0x404;
constexpr FpRegset kFpRegsets[] = {{kNtPrfpreg, 0}};
// NT_ARM_SVE: user_sve_header (vector length, format) and the Z, P and FFR registers, or the
// FPSIMD view when the task has not used SVE. CPUs without SVE have no such regset.
constexpr VectorRegset kVectorRegsets[] = {{0x405, "sve"}};

// NT_PRSTATUS is user_pt_regs (x0..x30, sp, pc, pstate: 34 words); NT_ARM_TLS holds tpidr_el0
// and, on 6.x kernels, tpidr2_el0 (zero without SME); NT_ARM_SYSTEM_CALL is an int.
constexpr Regset kRegsets[] = {{kNtPrstatus, 272}, {kNtArmTls, 16}, {kNtArmSystemCall, 4}};

constexpr RegDesc kGpRegs[] = {
    {"x0", 0, 8},          {"x1", 8, 8},       {"x2", 16, 8},     {"x3", 24, 8},
    {"x4", 32, 8},         {"x5", 40, 8},      {"x6", 48, 8},     {"x7", 56, 8},
    {"x8", 64, 8},         {"x9", 72, 8},      {"x10", 80, 8},    {"x11", 88, 8},
    {"x12", 96, 8},        {"x13", 104, 8},    {"x14", 112, 8},   {"x15", 120, 8},
    {"x16", 128, 8},       {"x17", 136, 8},    {"x18", 144, 8},   {"x19", 152, 8},
    {"x20", 160, 8},       {"x21", 168, 8},    {"x22", 176, 8},   {"x23", 184, 8},
    {"x24", 192, 8},       {"x25", 200, 8},    {"x26", 208, 8},   {"x27", 216, 8},
    {"x28", 224, 8},       {"x29", 232, 8},    {"x30", 240, 8},   {"sp", 248, 8},
    {"pc", 256, 8},        {"pstate", 264, 8}, {"tpidr", 272, 8}, {"tpidr2", 280, 8},
    {"syscallno", 288, 4},
};

constexpr std::string_view kTls[] = {"tpidr"};

constexpr SyscallEntry kSyscalls[] = {
#include "arch/aarch64/syscalls.inc"
};

// arm64's do_signal() rewinds before the task can stop: for every restart code it puts
// orig_x0 back into x0 and pc back on the svc, and forgets the syscall (syscallno -1), all
// before get_signal(), where ptrace stops the task. A dumped task therefore already holds the
// registers of a restart, and the error code is gone from x0. The one step left after the
// stop, x8 = restart_syscall for ERESTART_RESTARTBLOCK, cannot be told apart and is not
// taken: the call runs again from its first arguments (a sleep starts over), for either target.
void restart_fixup(Regs&, RestartTarget) {}

#if defined(__aarch64__)
static_assert(offsetof(user_pt_regs, sp) == 248 && offsetof(user_pt_regs, pc) == 256 &&
              sizeof(user_pt_regs) == 272 && sizeof(user_fpsimd_state) == 528);
#endif

}  // namespace

extern const Arch kAarch64;
const Arch kAarch64 = {
    .name = "aarch64",
    .endian = Endian::kLittle,
    // Debian's arm64 kernels and the lab's use 4 KiB pages (ARM64_4K_PAGES).
    .page_size = 4096,
    .syscall_insn = kSvc0,
    .insn_align = 4,
    .regsets = kRegsets,
    .gp_regs = kGpRegs,
    // user_fpsimd_state: v0..v31 (NEON), fpsr, fpcr; SVE in vector_regsets.
    .fp_regsets = kFpRegsets,
    .vector_regsets = kVectorRegsets,
    .pc = "pc",
    .sp = "sp",
    .nr = "x8",
    .ret = "x0",
    .args = {"x0", "x1", "x2", "x3", "x4", "x5"},
    .no_syscall = {"syscallno", ~0ULL},
    .error_flag = {},
    .tls = kTls,
    .syscalls = kSyscalls,
    .mmap_takes_block = false,
    // report_syscall() (arch/arm64/kernel/ptrace.c) sets x7 to 0 (entry) or 1 (exit) for the
    // stop and writes its old value back after it, over whatever the tracer wrote.
    .syscall_stop_clobbers = "x7",
    .restart_fixup = restart_fixup,
    .fp_incompatibility = fp_size_differs,
};

}  // namespace crossrig::arch
