#include "arch/arch.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

#include "arch/regs.h"

namespace crossrig::arch {
namespace {

const Arch& x86() {
  return *find_arch("x86_64");
}

TEST(X86_64, SyscallTableMatchesLibcNumbers) {
  EXPECT_EQ(syscall_nr(x86(), "read"), 0);
  EXPECT_EQ(syscall_nr(x86(), "mmap"), 9);
  EXPECT_EQ(syscall_nr(x86(), "clone3"), 435);
  EXPECT_EQ(syscall_nr(x86(), "restart_syscall"), 219);
  EXPECT_GT(x86().syscalls.size(), 300u);
  EXPECT_THROW(syscall_nr(x86(), "no_such_call"), std::runtime_error);
}

TEST(X86_64, RegisterNamesMapToUserRegsOffsets) {
  Regs r(x86());
  r.set("rip", 0x401000);
  EXPECT_EQ(r.bytes()[128], 0x00);
  EXPECT_EQ(r.bytes()[129], 0x10);
  EXPECT_EQ(r.bytes()[130], 0x40);
  EXPECT_EQ(r.pc(), 0x401000u);
}

Regs interrupted(std::int64_t ret, std::int64_t orig) {
  Regs r(x86());
  r.set("rip", 0x1002);
  r.set("rax", static_cast<std::uint64_t>(ret));
  r.set("orig_rax", static_cast<std::uint64_t>(orig));
  return r;
}

TEST(X86_64, RestartSysRewindsToTheSyscall) {
  Regs r = interrupted(-512, 7);
  x86().restart_fixup(r, RestartTarget::kNewTask);
  EXPECT_EQ(r.get("rax"), 7u);
  EXPECT_EQ(r.pc(), 0x1000u);
}

TEST(X86_64, RestartBlockUsesRestartSyscallOnlyInTheSameTask) {
  Regs same = interrupted(-516, 35);
  x86().restart_fixup(same, RestartTarget::kSameTask);
  EXPECT_EQ(same.get("rax"), 219u);
  EXPECT_EQ(same.pc(), 0x1000u);
  Regs fresh = interrupted(-516, 35);
  x86().restart_fixup(fresh, RestartTarget::kNewTask);
  EXPECT_EQ(fresh.syscall_ret(), -4);
  EXPECT_EQ(fresh.pc(), 0x1002u);
}

TEST(X86_64, RestartNoHandAndNoIntrRewindLikeRestartSys) {
  for (std::int64_t code : {-513, -514}) {
    Regs r = interrupted(code, 7);
    x86().restart_fixup(r, RestartTarget::kSameTask);
    EXPECT_EQ(r.get("rax"), 7u);
    EXPECT_EQ(r.pc(), 0x1000u);
  }
}

TEST(X86_64, NoSyscallNoChange) {
  Regs r = interrupted(-512, -1);
  x86().restart_fixup(r, RestartTarget::kNewTask);
  EXPECT_EQ(r.syscall_ret(), -512);
  EXPECT_EQ(r.pc(), 0x1002u);
}

TEST(X86_64, FpRefusesFeaturesTheHostLacks) {
  std::vector<std::uint8_t> image(1024, 0), host(1024, 0);
  image[512] = 0x07;  // x87, SSE, AVX in use
  host[464] = 0x03;   // host supports x87 and SSE only
  auto why = x86().fp_incompatibility(image, host);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("0x4"), std::string::npos);
  host[464] = 0x07;
  EXPECT_FALSE(x86().fp_incompatibility(image, host).has_value());
}

TEST(X86_64, FxsaveAreaLoadsAnywhereXsaveNeedsXsave) {
  std::vector<std::uint8_t> fxsave(512, 0), xsave(1024, 0);
  EXPECT_FALSE(x86().fp_incompatibility(fxsave, xsave).has_value());
  EXPECT_FALSE(x86().fp_incompatibility(fxsave, fxsave).has_value());
  auto why = x86().fp_incompatibility(xsave, fxsave);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("no XSAVE"), std::string::npos) << *why;
}

}  // namespace
}  // namespace crossrig::arch
