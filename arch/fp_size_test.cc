#include <gtest/gtest.h>

#include <vector>

#include "arch/arch.h"

namespace crossrig::arch {
namespace {

TEST(FpSizeDiffers, SameSizeLoadsOtherSizeIsRefusedWithBothSizes) {
  std::vector<std::uint8_t> image(528, 1), host(528, 2);
  EXPECT_FALSE(fp_size_differs(image, host).has_value());
  host.resize(544);
  auto why = fp_size_differs(image, host);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("528"), std::string::npos) << *why;
  EXPECT_NE(why->find("544"), std::string::npos) << *why;
}

// x86_64 without XSAVE: the 512-byte FXSAVE area goes back through NT_PRFPREG, an XSAVE area
// of any size through NT_X86_XSTATE.
TEST(FpRegsetFor, FixedSizeFirstElseTheVariableOne) {
  const Arch& x86 = *find_arch("x86_64");
  EXPECT_EQ(fp_regset_for(x86, 512).note, 2u);
  EXPECT_EQ(fp_regset_for(x86, 2696).note, 0x202u);
  const Arch& s390x = *find_arch("s390x");
  EXPECT_EQ(fp_regset_for(s390x, 136).note, 2u);
}

}  // namespace
}  // namespace crossrig::arch
