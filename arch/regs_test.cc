#include "arch/regs.h"

#include <gtest/gtest.h>

#include <array>

namespace crossrig::arch {
namespace {

TEST(LoadStore, LittleAndBigEndianRoundTrip) {
  std::array<std::uint8_t, 4> le{}, be{};
  store_uint(le, 0x11223344, Endian::kLittle);
  store_uint(be, 0x11223344, Endian::kBig);
  EXPECT_EQ(le, (std::array<std::uint8_t, 4>{0x44, 0x33, 0x22, 0x11}));
  EXPECT_EQ(be, (std::array<std::uint8_t, 4>{0x11, 0x22, 0x33, 0x44}));
  EXPECT_EQ(load_uint(le, Endian::kLittle), 0x11223344u);
  EXPECT_EQ(load_uint(be, Endian::kBig), 0x11223344u);
}

TEST(Arches, EveryArchHasConsistentTables) {
  ASSERT_EQ(all_arches().size(), 5u);
  for (const Arch* a : all_arches()) {
    EXPECT_EQ(find_arch(a->name), a);
    ASSERT_FALSE(a->regsets.empty()) << a->name;
    EXPECT_EQ(a->regsets[0].note, 1u) << a->name << ": NT_PRSTATUS comes first";
    for (const RegDesc& r : a->gp_regs)
      EXPECT_LE(r.offset + r.size, regs_size(*a)) << a->name << " " << r.name;
    Regs regs(*a);
    for (std::string_view n : {a->pc, a->sp, a->nr, a->ret})
      EXPECT_NO_THROW(regs.get(n)) << a->name << " " << n;
    for (std::string_view n : a->args)
      EXPECT_NO_THROW(regs.get(n)) << a->name << " " << n;
    for (std::string_view n : a->tls)
      EXPECT_NO_THROW(regs.get(n)) << a->name << " " << n;
    for (const RegValue& rv : {a->no_syscall, a->error_flag}) {
      if (!rv.reg.empty()) {
        EXPECT_NO_THROW(regs.get(rv.reg)) << a->name << " " << rv.reg;
      }
    }
    if (!a->syscall_stop_clobbers.empty()) {
      EXPECT_NO_THROW(regs.get(a->syscall_stop_clobbers)) << a->name;
    }
    EXPECT_EQ(a->syscall_insn.size() % a->insn_align, 0u) << a->name;
    EXPECT_GT(a->syscalls.size(), 300u) << a->name;
    EXPECT_NO_THROW(syscall_nr(*a, "restart_syscall")) << a->name;
  }
  EXPECT_EQ(find_arch("pdp11"), nullptr);
}

TEST(Arches, NamesAreUnameSpellings) {
  for (std::string_view n : {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x"})
    EXPECT_NE(find_arch(n), nullptr) << n;
}

TEST(Regs, GetSignedExtendsFromTheRegisterWidth) {
  Regs regs(*find_arch("aarch64"));
  regs.set("syscallno", ~0ULL);
  EXPECT_EQ(regs.get("syscallno"), 0xffffffffu);
  EXPECT_EQ(regs.get_signed("syscallno"), -1);
  regs.set("x0", static_cast<std::uint64_t>(-22));
  EXPECT_EQ(regs.get_signed("x0"), -22);
}

TEST(Regs, SetSyscallTellsTheKernelNoSyscallIsUnderway) {
  for (const Arch* a : all_arches()) {
    if (a->no_syscall.reg.empty()) continue;
    Regs regs(*a);
    regs.set(a->no_syscall.reg, 0x1234);
    const std::uint64_t args[] = {1, 2, 3, 4, 5, 6};
    regs.set_syscall(syscall_nr(*a, "mmap"), args);
    Regs want(*a);
    want.set(a->no_syscall.reg, a->no_syscall.value);
    EXPECT_EQ(regs.get(a->no_syscall.reg), want.get(a->no_syscall.reg)) << a->name;
    EXPECT_EQ(regs.get(a->nr), static_cast<std::uint64_t>(syscall_nr(*a, "mmap"))) << a->name;
    for (std::size_t i = 0; i < 6; ++i)
      EXPECT_EQ(regs.get(a->args[i]), args[i]) << a->name << " arg " << i;
  }
}

TEST(Regs, UnknownNameThrows) {
  Regs regs(native_arch());
  EXPECT_THROW(regs.get("no_such_register"), std::out_of_range);
}

}  // namespace
}  // namespace crossrig::arch
