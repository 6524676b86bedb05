#include "arch/arch.h"

#include <gtest/gtest.h>

#include <vector>

#include "arch/regs.h"

namespace crossrig::arch {
namespace {

const Arch& s390() {
  return *find_arch("s390x");
}

TEST(S390x, SyscallTableIsThe64BitOne) {
  EXPECT_EQ(syscall_nr(s390(), "read"), 3);
  EXPECT_EQ(syscall_nr(s390(), "restart_syscall"), 7);
  EXPECT_EQ(syscall_nr(s390(), "mmap"), 90);
  EXPECT_EQ(syscall_nr(s390(), "rt_sigreturn"), 173);
  EXPECT_EQ(syscall_nr(s390(), "clone3"), 435);
  EXPECT_THROW(syscall_nr(s390(), "mmap2"), std::runtime_error);  // 31-bit only
}

TEST(S390x, Svc0IsTwoBigEndianBytes) {
  EXPECT_EQ(s390().endian, Endian::kBig);
  EXPECT_EQ(std::vector<std::uint8_t>(s390().syscall_insn.begin(), s390().syscall_insn.end()),
            (std::vector<std::uint8_t>{0x0a, 0x00}));
  EXPECT_EQ(s390().insn_align, 2u);
  EXPECT_EQ(s390().page_size, 4096u);
}

TEST(S390x, RegistersSitInS390RegsBigEndian) {
  EXPECT_EQ(regs_size(s390()), 216u + 4u);
  Regs r(s390());
  r.set("psw_addr", 0x2aa00001234);
  EXPECT_EQ(r.bytes()[15], 0x34);
  EXPECT_EQ(r.bytes()[14], 0x12);
  EXPECT_EQ(r.bytes()[11], 0xaa);
  r.set("acr1", 0x3ff8a0b0);  // low half of the thread pointer
  EXPECT_EQ(r.bytes()[148], 0x3f);
  EXPECT_EQ(r.bytes()[151], 0xb0);
  r.set("system_call", 0x20000 | 162);
  EXPECT_EQ(r.bytes()[217], 0x02);
  EXPECT_EQ(r.bytes()[219], 162);
  std::uint64_t v = 0x1000;
  for (const RegDesc& d : s390().gp_regs)
    r.set(d.name, v += 0x0101010101);
  v = 0x1000;
  for (const RegDesc& d : s390().gp_regs) {
    v += 0x0101010101;
    EXPECT_EQ(r.get(d.name), d.size == 8 ? v : v & 0xffffffff) << d.name;
  }
}

// A task stopped in get_signal() after svc 0 (2 bytes) failed with -code.
Regs stopped_after_svc(std::int64_t code) {
  Regs r(s390());
  r.set("system_call", (2 << 16) | 162);
  r.set("psw_addr", 0x2aa00001002);
  r.set("orig_gpr2", 0x3ffffff8);
  r.set("gpr2", static_cast<std::uint64_t>(-code));
  return r;
}

TEST(S390x, RestartCodesRewindOverTheSvcWithOrigGpr2) {
  for (std::int64_t code : {512, 513, 514}) {
    for (RestartTarget t : {RestartTarget::kSameTask, RestartTarget::kNewTask}) {
      Regs r = stopped_after_svc(code);
      s390().restart_fixup(r, t);
      EXPECT_EQ(r.pc(), 0x2aa00001000u) << code;
      EXPECT_EQ(r.get("gpr2"), 0x3ffffff8u) << code;
      EXPECT_EQ(r.get("system_call"), 0u) << code;
    }
  }
}

TEST(S390x, RestartBlockFailsWithEintrInANewTask) {
  Regs fresh = stopped_after_svc(516);
  s390().restart_fixup(fresh, RestartTarget::kNewTask);
  EXPECT_EQ(fresh.syscall_ret(), -4);
  EXPECT_EQ(fresh.pc(), 0x2aa00001002u);
  Regs same = stopped_after_svc(516);
  s390().restart_fixup(same, RestartTarget::kSameTask);
  EXPECT_EQ(same.pc(), 0x2aa00001000u);
  EXPECT_EQ(same.get("gpr2"), 0x3ffffff8u);
}

TEST(S390x, NotInASyscallNoChange) {
  Regs r = stopped_after_svc(512);
  r.set("system_call", 0);
  Regs before = r;
  s390().restart_fixup(r, RestartTarget::kNewTask);
  EXPECT_EQ(r.get("gpr2"), before.get("gpr2"));
  EXPECT_EQ(r.pc(), before.pc());
  Regs eintr = stopped_after_svc(4);
  s390().restart_fixup(eintr, RestartTarget::kNewTask);
  EXPECT_EQ(eintr.syscall_ret(), -4);
  EXPECT_EQ(eintr.get("system_call"), (2u << 16) | 162);
}

}  // namespace
}  // namespace crossrig::arch
