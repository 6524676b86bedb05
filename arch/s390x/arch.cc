// The s390x backend: s390_regs (psw, gprs, access registers, orig_gpr2) plus NT_S390_SYSTEM_CALL,
// the interruption code of the syscall the kernel is in, the syscall ABI (svc 0 with the number
// in gpr1, gpr2 both first argument and result) and the kernel's restart rules.
#include <cstddef>

#if defined(__s390x__)
#include <asm/ptrace.h>
#endif

#include "arch/arch.h"
#include "arch/regs.h"
#include "arch/restart_codes.h"

namespace crossrig::arch {
namespace {

// svc 0: the number is then taken from gpr1.
constexpr std::uint8_t kSvc0[] = {0x0a, 0x00};

constexpr unsigned kNtPrstatus = 1, kNtPrfpreg = 2, kNtS390SystemCall = 0x307;
constexpr FpRegset kFpRegsets[] = {{kNtPrfpreg, 0}};
// NT_S390_VXRS_LOW: the low halves of v0..v15 (their high halves are f0..f15, in NT_PRFPREG);
// NT_S390_VXRS_HIGH: v16..v31.
constexpr VectorRegset kVectorRegsets[] = {{0x309, "vxrs_low"}, {0x30a, "vxrs_high"}};

// NT_PRSTATUS: psw (mask, addr), gprs[16], acrs[16] (4 bytes each), orig_gpr2.
// NT_S390_SYSTEM_CALL: an unsigned int, ilc << 16 | number, 0 when not in a syscall.
constexpr Regset kRegsets[] = {{kNtPrstatus, 216}, {kNtS390SystemCall, 4}};

constexpr RegDesc kGpRegs[] = {
    {"psw_mask", 0, 8}, {"psw_addr", 8, 8}, {"gpr0", 16, 8},       {"gpr1", 24, 8},
    {"gpr2", 32, 8},    {"gpr3", 40, 8},    {"gpr4", 48, 8},       {"gpr5", 56, 8},
    {"gpr6", 64, 8},    {"gpr7", 72, 8},    {"gpr8", 80, 8},       {"gpr9", 88, 8},
    {"gpr10", 96, 8},   {"gpr11", 104, 8},  {"gpr12", 112, 8},     {"gpr13", 120, 8},
    {"gpr14", 128, 8},  {"gpr15", 136, 8},  {"acr0", 144, 4},      {"acr1", 148, 4},
    {"acr2", 152, 4},   {"acr3", 156, 4},   {"acr4", 160, 4},      {"acr5", 164, 4},
    {"acr6", 168, 4},   {"acr7", 172, 4},   {"acr8", 176, 4},      {"acr9", 180, 4},
    {"acr10", 184, 4},  {"acr11", 188, 4},  {"acr12", 192, 4},     {"acr13", 196, 4},
    {"acr14", 200, 4},  {"acr15", 204, 4},  {"orig_gpr2", 208, 8}, {"system_call", 216, 4},
};

// The thread pointer is acr0:acr1.
constexpr std::string_view kTls[] = {"acr0", "acr1"};

constexpr SyscallEntry kSyscalls[] = {
#include "arch/s390x/syscalls.inc"
};

// arch_do_signal_or_restart() with no handler. The stop comes in get_signal(), before it acts,
// so a dumped task still shows -ERESTART* in gpr2; the syscall it was in is the
// NT_S390_SYSTEM_CALL word, whose high half is the length of the svc to step back over.
void restart_fixup(Regs& regs, RestartTarget target) {
  const std::uint64_t system_call = regs.get("system_call");
  if (system_call == 0) return;
  switch (-regs.get_signed("gpr2")) {
    case kErestartRestartblock:
      if (target == RestartTarget::kNewTask) {
        // The restart block stays in the dumped kernel: the call fails with EINTR instead.
        regs.set("gpr2", static_cast<std::uint64_t>(-kEintr));
        break;
      }
      // The kernel would enter restart_syscall through a trampoline in the vdso, whose
      // address is not in the registers; the call runs again from its arguments instead.
      [[fallthrough]];
    case kErestartsys:
    case kErestartnointr:
    case kErestartnohand:
      regs.set("gpr2", regs.get("orig_gpr2"));
      regs.set("psw_addr", regs.get("psw_addr") - (system_call >> 16));
      break;
    default:
      return;
  }
  // No longer in a syscall, as the kernel clears PIF_SYSCALL.
  regs.set("system_call", 0);
}

#if defined(__s390x__)
static_assert(offsetof(s390_regs, acrs) == 144 && offsetof(s390_regs, orig_gpr2) == 208 &&
              sizeof(s390_regs) == 216 && sizeof(s390_fp_regs) == 136);
#endif

}  // namespace

extern const Arch kS390x;
const Arch kS390x = {
    .name = "s390x",
    .endian = Endian::kBig,
    .page_size = 4096,
    .syscall_insn = kSvc0,
    .insn_align = 2,
    .regsets = kRegsets,
    .gp_regs = kGpRegs,
    // fpc and f0..f15; the rest of the vector registers in vector_regsets.
    .fp_regsets = kFpRegsets,
    .vector_regsets = kVectorRegsets,
    .pc = "psw_addr",
    .sp = "gpr15",
    .nr = "gpr1",
    .ret = "gpr2",
    .args = {"gpr2", "gpr3", "gpr4", "gpr5", "gpr6", "gpr7"},
    // The kernel reads the syscall being restarted from this word, which the debugger may set.
    .no_syscall = {"system_call", 0},
    .error_flag = {},
    .tls = kTls,
    .syscalls = kSyscalls,
    .mmap_takes_block = true,
    .syscall_stop_clobbers = {},
    .restart_fixup = restart_fixup,
    .fp_incompatibility = fp_size_differs,
};

}  // namespace crossrig::arch
