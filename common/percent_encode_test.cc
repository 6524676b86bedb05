#include "common/percent_encode.h"

#include <gtest/gtest.h>

namespace crossrig {
namespace {

TEST(PercentEncodePath, KeepsSlashesAndUnreservedBytes) {
  EXPECT_EQ(percent_encode_path("/srv/images/ppc64/vmlinux-6.1_a~b.gz"),
            "/srv/images/ppc64/vmlinux-6.1_a~b.gz");
  EXPECT_EQ(percent_encode_path("/my images/a+b#c%"), "/my%20images/a%2Bb%23c%25");
  EXPECT_EQ(percent_encode_path("x:y?z"), "x%3Ay%3Fz");
  EXPECT_EQ(percent_encode_path("caf\xc3\xa9"), "caf%C3%A9");
}

}  // namespace
}  // namespace crossrig
