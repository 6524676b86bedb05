#include "common/hex.h"

#include <gtest/gtest.h>

namespace crossrig {
namespace {

TEST(Hex, RoundTrips) {
  std::vector<std::uint8_t> bytes{0x00, 0x7f, 0x80, 0xff, 0x1d};
  EXPECT_EQ(to_hex(bytes), "007f80ff1d");
  EXPECT_EQ(from_hex("007F80ff1d"), bytes);
}

TEST(Hex, RejectsOddLengthAndNonHex) {
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_EQ(from_hex("")->size(), 0u);
}

}  // namespace
}  // namespace crossrig
