#include "arch/arch.h"

#include <gtest/gtest.h>

#include <vector>

#include "arch/regs.h"

namespace crossrig::arch {
namespace {

const Arch& le() {
  return *find_arch("ppc64le");
}

TEST(Ppc64le, SameTableAndLayoutAsPpc64InLittleEndian) {
  const Arch& be = *find_arch("ppc64");
  EXPECT_EQ(le().endian, Endian::kLittle);
  EXPECT_EQ(std::vector<std::uint8_t>(le().syscall_insn.begin(), le().syscall_insn.end()),
            (std::vector<std::uint8_t>{0x02, 0x00, 0x00, 0x44}));
  EXPECT_EQ(le().page_size, 65536u);
  EXPECT_EQ(syscall_nr(le(), "mmap"), 90);
  EXPECT_EQ(syscall_nr(le(), "restart_syscall"), 0);
  ASSERT_EQ(le().syscalls.size(), be.syscalls.size());
  for (std::size_t i = 0; i < le().syscalls.size(); ++i) {
    EXPECT_EQ(le().syscalls[i].name, be.syscalls[i].name);
    EXPECT_EQ(le().syscalls[i].nr, be.syscalls[i].nr);
  }
}

TEST(Ppc64le, RegistersAreLittleEndianAtTheSameOffsets) {
  Regs r(le());
  r.set("nip", 0x10001234);
  EXPECT_EQ(r.bytes()[256], 0x34);
  EXPECT_EQ(r.bytes()[257], 0x12);
  EXPECT_EQ(r.bytes()[259], 0x10);
  Regs be(*find_arch("ppc64"));
  be.set("nip", 0x10001234);
  EXPECT_EQ(be.get("nip"), r.get("nip"));
  EXPECT_NE(std::vector<std::uint8_t>(be.bytes().begin(), be.bytes().end()),
            std::vector<std::uint8_t>(r.bytes().begin(), r.bytes().end()));
}

TEST(Ppc64le, RestartSysRewindsToTheSc) {
  Regs r(le());
  r.set("trap", 0xc00);
  r.set("nip", 0x7fff00000208);
  r.set("orig_gpr3", 5);
  r.set("gpr3", 512);
  r.set("ccr", 0x10000000);
  le().restart_fixup(r, RestartTarget::kNewTask);
  EXPECT_EQ(r.pc(), 0x7fff00000204u);
  EXPECT_EQ(r.get("gpr3"), 5u);
}

}  // namespace
}  // namespace crossrig::arch
