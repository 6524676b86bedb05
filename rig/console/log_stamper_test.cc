#include "rig/console/log_stamper.h"

#include <gtest/gtest.h>

namespace crossrig::rig::console {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

const system_clock::time_point kT0{milliseconds(1796110430123)};  // 2026-12-01T07:33:50.123Z

TEST(LogStamper, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_utc(kT0), "2026-12-01T07:33:50.123Z");
  EXPECT_EQ(format_utc_compact(kT0), "20261201T073350.123Z");
}

TEST(LogStamper, StampsEachLineWithTheTimeItsFirstByteArrived) {
  LogStamper s;
  std::string out;
  s.feed("U-Boot 2023.01\r\nDRAM:  1 Gi", kT0, out);
  EXPECT_TRUE(s.mid_line());
  s.feed("B\r\n\x1b[0mStarting kernel ...\r\n", kT0 + milliseconds(1500), out);
  EXPECT_FALSE(s.mid_line());
  EXPECT_EQ(out,
            "2026-12-01T07:33:50.123Z U-Boot 2023.01\n"
            "2026-12-01T07:33:50.123Z DRAM:  1 GiB\n"
            "2026-12-01T07:33:51.623Z Starting kernel ...\n");
}

TEST(LogStamper, NoiseAloneWritesNothing) {
  LogStamper s;
  std::string out;
  s.feed("\x1b[2J\r", kT0, out);
  EXPECT_EQ(out, "");
  EXPECT_FALSE(s.mid_line());
}

}  // namespace
}  // namespace crossrig::rig::console
