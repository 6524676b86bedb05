#include "common/utc_time.h"

#include <gtest/gtest.h>

#include <ctime>

namespace crossrig {
namespace {

TEST(UtcTime, NowIsRfc3339ToTheSecondAndReadsBack) {
  const std::string now = utc_now();
  ASSERT_EQ(now.size(), 20u) << now;
  EXPECT_EQ(now.back(), 'Z');
  auto seconds = parse_utc(now);
  ASSERT_TRUE(seconds);
  EXPECT_NEAR(*seconds, static_cast<double>(std::time(nullptr)), 2.0);
}

TEST(UtcTime, ReadsLavasTimesWithAndWithoutZoneAndFraction) {
  // 2026-12-05T03:07:27Z is 1796440047 s after the epoch.
  EXPECT_EQ(parse_utc("2026-12-05T03:07:27Z"), 1796440047.0);
  EXPECT_EQ(parse_utc("2026-12-05T03:07:27"), 1796440047.0);
  EXPECT_EQ(parse_utc("2026-12-05T03:07:27+00:00"), 1796440047.0);
  EXPECT_NEAR(*parse_utc("2026-12-05T03:07:27.009545Z"), 1796440047.009545, 1e-6);
  EXPECT_NEAR(*parse_utc("2026-12-05T03:07:29.878021"), 1796440049.878021, 1e-6);
}

TEST(UtcTime, FormatsWhatItReads) {
  EXPECT_EQ(format_utc(1796440047.9), "2026-12-05T03:07:27Z");
  EXPECT_EQ(format_utc(*parse_utc("2026-02-28T23:59:59.5")), "2026-02-28T23:59:59Z");
}

TEST(UtcTime, RefusesOtherZonesAndMalformedTimes) {
  for (const char* bad :
       {"", "2026-12-05", "2026-12-05 03:07:27", "2026-13-05T03:07:27Z", "2026-12-05T24:00:00Z",
        "2026-12-05T03:07:27+01:00", "2026-12-05T03:07:27.Z", "2026-12-05T03:07:27Zjunk",
        "x026-12-05T03:07:27"}) {
    EXPECT_FALSE(parse_utc(bad)) << bad;
  }
}

}  // namespace
}  // namespace crossrig
