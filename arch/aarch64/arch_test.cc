#include "arch/arch.h"

#include <gtest/gtest.h>

#include <vector>

#include "arch/regs.h"

namespace crossrig::arch {
namespace {

const Arch& a64() {
  return *find_arch("aarch64");
}

TEST(Aarch64, SyscallTableMatchesTheGenericHeader) {
  // include/uapi/asm-generic/unistd.h: mmap is __NR3264_mmap, fstat __NR3264_fstat.
  EXPECT_EQ(syscall_nr(a64(), "read"), 63);
  EXPECT_EQ(syscall_nr(a64(), "mmap"), 222);
  EXPECT_EQ(syscall_nr(a64(), "fstat"), 80);
  EXPECT_EQ(syscall_nr(a64(), "restart_syscall"), 128);
  EXPECT_EQ(syscall_nr(a64(), "clone3"), 435);
  // The generic table has no open(2), only openat.
  EXPECT_THROW(syscall_nr(a64(), "open"), std::runtime_error);
  EXPECT_THROW(syscall_nr(a64(), "mmap2"), std::runtime_error);
}

TEST(Aarch64, SvcIsLittleEndianAndAligned) {
  EXPECT_EQ(std::vector<std::uint8_t>(a64().syscall_insn.begin(), a64().syscall_insn.end()),
            (std::vector<std::uint8_t>{0x01, 0x00, 0x00, 0xd4}));
  EXPECT_EQ(a64().insn_align, 4u);
  EXPECT_EQ(a64().page_size, 4096u);
}

TEST(Aarch64, RegistersSitInUserPtRegsAndTheTlsAndSyscallRegsets) {
  EXPECT_EQ(regs_size(a64()), 272u + 16u + 4u);
  Regs r(a64());
  r.set("pc", 0x0000aaaabbbb1234);
  EXPECT_EQ(r.bytes()[256], 0x34);
  EXPECT_EQ(r.bytes()[257], 0x12);
  EXPECT_EQ(r.bytes()[261], 0xaa);
  r.set("tpidr", 0xffff8000aabbccdd);
  EXPECT_EQ(r.bytes()[272], 0xdd);
  r.set("syscallno", 0x38);
  EXPECT_EQ(r.bytes()[288], 0x38);
  // Every register reads back what was written, with its neighbours untouched.
  std::uint64_t v = 0x0102030405060708;
  for (const RegDesc& d : a64().gp_regs)
    r.set(d.name, v += 0x1111);
  v = 0x0102030405060708;
  for (const RegDesc& d : a64().gp_regs) {
    v += 0x1111;
    EXPECT_EQ(r.get(d.name), d.size == 8 ? v : v & 0xffffffff) << d.name;
  }
}

TEST(Aarch64, ResultIsX0WithNegativeErrno) {
  Regs r(a64());
  r.set("x0", static_cast<std::uint64_t>(-12));
  EXPECT_EQ(r.syscall_ret(), -12);
  r.set("x0", 0xffff9000);
  EXPECT_EQ(r.syscall_ret(), 0xffff9000);
}

// At the stop the kernel has already rewound: x0 = orig_x0, pc on the svc, syscallno -1.
TEST(Aarch64, RestartFixupKeepsWhatTheKernelAlreadyRewound) {
  for (RestartTarget t : {RestartTarget::kSameTask, RestartTarget::kNewTask}) {
    Regs r(a64());
    r.set("pc", 0x400000);
    r.set("x0", 3);
    r.set("x8", static_cast<std::uint64_t>(syscall_nr(a64(), "clock_nanosleep")));
    r.set("syscallno", ~0ULL);
    Regs before = r;
    a64().restart_fixup(r, t);
    EXPECT_EQ(std::vector<std::uint8_t>(r.bytes().begin(), r.bytes().end()),
              std::vector<std::uint8_t>(before.bytes().begin(), before.bytes().end()));
  }
}

// report_syscall() (arch/arm64/kernel/ptrace.c) puts x7 back as a syscall stop ends.
TEST(Aarch64, SyscallStopsPutBackX7) {
  EXPECT_EQ(a64().syscall_stop_clobbers, "x7");
  for (std::string_view other : {"x86_64", "ppc64", "ppc64le", "s390x"})
    EXPECT_TRUE(find_arch(other)->syscall_stop_clobbers.empty()) << other;
}

TEST(Aarch64, FpRegsetOfAnotherSizeIsRefused) {
  std::vector<std::uint8_t> image(528), host(528);
  EXPECT_FALSE(a64().fp_incompatibility(image, host).has_value());
  host.resize(512);
  EXPECT_TRUE(a64().fp_incompatibility(image, host).has_value());
}

}  // namespace
}  // namespace crossrig::arch
