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
  ASSERT_FALSE(all_arches().empty());
  for (const Arch* a : all_arches()) {
    EXPECT_EQ(find_arch(a->name), a);
    for (const RegDesc& r : a->gp_regs)
      EXPECT_LE(r.offset + r.size, a->gp_size) << r.name;
    Regs regs(*a);
    for (std::string_view n : {a->pc, a->sp, a->nr, a->orig_nr, a->ret, a->tls})
      EXPECT_NO_THROW(regs.get(n)) << a->name << " " << n;
    for (std::string_view n : a->args)
      EXPECT_NO_THROW(regs.get(n)) << a->name << " " << n;
  }
  EXPECT_EQ(find_arch("pdp11"), nullptr);
}

TEST(Regs, UnknownNameThrows) {
  Regs regs(native_arch());
  EXPECT_THROW(regs.get("no_such_register"), std::out_of_range);
}

}  // namespace
}  // namespace crossrig::arch
