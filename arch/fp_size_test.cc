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

}  // namespace
}  // namespace crossrig::arch
