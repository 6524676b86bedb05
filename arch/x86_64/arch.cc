// The x86_64 backend: register layout of struct user_regs_struct, the syscall ABI and the
// kernel's syscall-restart rules, as data.
#include <cstdio>
#include <string>

#if defined(__x86_64__)
#include <sys/user.h>

#include <cstddef>
#endif

#include "arch/arch.h"
#include "arch/regs.h"
#include "arch/restart_codes.h"

namespace crossrig::arch {
namespace {

constexpr std::uint8_t kSyscallInsn[] = {0x0f, 0x05};

// struct user_regs_struct: 27 eight-byte fields in this order.
constexpr RegDesc kGpRegs[] = {
    {"r15", 0, 8},   {"r14", 8, 8},       {"r13", 16, 8},      {"r12", 24, 8},
    {"rbp", 32, 8},  {"rbx", 40, 8},      {"r11", 48, 8},      {"r10", 56, 8},
    {"r9", 64, 8},   {"r8", 72, 8},       {"rax", 80, 8},      {"rcx", 88, 8},
    {"rdx", 96, 8},  {"rsi", 104, 8},     {"rdi", 112, 8},     {"orig_rax", 120, 8},
    {"rip", 128, 8}, {"cs", 136, 8},      {"eflags", 144, 8},  {"rsp", 152, 8},
    {"ss", 160, 8},  {"fs_base", 168, 8}, {"gs_base", 176, 8}, {"ds", 184, 8},
    {"es", 192, 8},  {"fs", 200, 8},      {"gs", 208, 8},
};

constexpr SyscallEntry kSyscalls[] = {
#include "arch/x86_64/syscalls.inc"
};

constexpr unsigned kNtPrstatus = 1, kNtPrfpreg = 2, kNtX86Xstate = 0x202;
// The XSAVE area where the CPU has XSAVE, else the legacy 512-byte FXSAVE area (QEMU's default
// qemu64 CPU and x86_64 CPUs before 2008).
constexpr FpRegset kFpRegsets[] = {{kNtX86Xstate, 0}, {kNtPrfpreg, 512}};
constexpr std::size_t kFxsaveSize = 512;
constexpr Regset kRegsets[] = {{kNtPrstatus, sizeof(kGpRegs) / sizeof(kGpRegs[0]) * 8}};
constexpr std::string_view kTls[] = {"fs_base"};

void restart_fixup(Regs& regs, RestartTarget target) {
  if (regs.get_signed("orig_rax") < 0) return;
  switch (-regs.syscall_ret()) {
    case kErestartsys:
    case kErestartnointr:
    case kErestartnohand:
      regs.set("rax", regs.get("orig_rax"));
      regs.set("rip", regs.get("rip") - sizeof(kSyscallInsn));
      break;
    case kErestartRestartblock:
      if (target == RestartTarget::kSameTask) {
        regs.set("rax", static_cast<std::uint64_t>(syscall_nr(regs.arch(), "restart_syscall")));
        regs.set("rip", regs.get("rip") - sizeof(kSyscallInsn));
      } else {
        regs.set("rax", static_cast<std::uint64_t>(-kEintr));
      }
      break;
    default:
      break;
  }
}

// The xsave layout: XSTATE_BV (components in use) at 512; for ptrace the kernel stores the
// XCR0 this CPU and kernel enable in the first word of the software-reserved bytes, at 464.
constexpr std::size_t kXstateBvOffset = 512, kSwXfeaturesOffset = 464;

std::optional<std::string> fp_incompatibility(std::span<const std::uint8_t> image_fp,
                                              std::span<const std::uint8_t> host_fp) {
  // Every x86_64 CPU loads an FXSAVE area; an XSAVE area needs a CPU with XSAVE.
  if (image_fp.size() == kFxsaveSize) return std::nullopt;
  if (host_fp.size() == kFxsaveSize)
    return "the image holds XSAVE state (" + std::to_string(image_fp.size()) +
           " bytes) and this CPU has no XSAVE";
  if (image_fp.size() < kXstateBvOffset + 8 || host_fp.size() < kXstateBvOffset + 8)
    return "xsave area shorter than its header";
  std::uint64_t used = load_uint(image_fp.subspan(kXstateBvOffset, 8), Endian::kLittle);
  std::uint64_t host = load_uint(host_fp.subspan(kSwXfeaturesOffset, 8), Endian::kLittle);
  if ((used & ~host) != 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "image uses xsave features 0x%llx this CPU lacks",
                  static_cast<unsigned long long>(used & ~host));
    return std::string(buf);
  }
  if (image_fp.size() != host_fp.size()) {
    return "xsave area is " + std::to_string(image_fp.size()) + " bytes in the image but " +
           std::to_string(host_fp.size()) + " on this CPU";
  }
  return std::nullopt;
}

#if defined(__x86_64__)
static_assert(offsetof(user_regs_struct, orig_rax) == 120 &&
              offsetof(user_regs_struct, rip) == 128 &&
              offsetof(user_regs_struct, fs_base) == 168 && sizeof(user_regs_struct) == 216);
#endif

}  // namespace

extern const Arch kX86_64;
const Arch kX86_64 = {
    .name = "x86_64",
    .endian = Endian::kLittle,
    .page_size = 4096,
    .syscall_insn = kSyscallInsn,
    .insn_align = 1,
    .regsets = kRegsets,
    .gp_regs = kGpRegs,
    .fp_regsets = kFpRegsets,
    .vector_regsets = {},  // AVX and beyond are in the XSAVE area
    .pc = "rip",
    .sp = "rsp",
    .nr = "rax",
    .ret = "rax",
    .args = {"rdi", "rsi", "rdx", "r10", "r8", "r9"},
    .no_syscall = {"orig_rax", ~0ULL},
    .error_flag = {},
    .tls = kTls,
    .syscalls = kSyscalls,
    .mmap_takes_block = false,
    .syscall_stop_clobbers = {},
    .restart_fixup = restart_fixup,
    .fp_incompatibility = fp_incompatibility,
};

}  // namespace crossrig::arch
