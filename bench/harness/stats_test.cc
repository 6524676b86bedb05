#include "bench/harness/stats.h"

#include <gtest/gtest.h>

namespace crossrig::bench {
namespace {

TEST(Summarize, TakesMedianAndDeciles) {
  Summary s = summarize({5, 1, 4, 2, 3});
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.p10, 1.4);
  EXPECT_DOUBLE_EQ(s.p90, 4.6);
  EXPECT_EQ(s.samples, 5u);
  EXPECT_EQ(summarize({}).samples, 0u);
  EXPECT_DOUBLE_EQ(summarize({2, 4}).median, 3);
}

TEST(FormatRow, PrintsRatioToBaseline) {
  Summary base = summarize({2});
  Summary s = summarize({5});
  std::string row = format_row("plugctl state", s, "ms", &base);
  EXPECT_NE(row.find("plugctl state"), std::string::npos);
  EXPECT_NE(row.find("ratio 2.50x"), std::string::npos);
  EXPECT_EQ(format_row("x", s, "ms", nullptr).find("ratio"), std::string::npos);
}

}  // namespace
}  // namespace crossrig::bench
