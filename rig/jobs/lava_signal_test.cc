#include "rig/jobs/lava_signal.h"

#include <gtest/gtest.h>

namespace crossrig::rig {
namespace {

TEST(LavaSignal, TestCaseWithMeasurement) {
  auto s = find_lava_signal(
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt-restore RESULT=pass MEASUREMENT=12.5 UNITS=ms>");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "TESTCASE");
  auto tc = test_case_of(*s);
  ASSERT_EQ(tc.index(), 0u) << std::get<1>(tc);
  const auto& r = std::get<0>(tc);
  EXPECT_EQ(r.id, "ckpt-restore");
  EXPECT_EQ(r.result, "pass");
  EXPECT_EQ(r.measurement, "12.5");
  EXPECT_EQ(r.units, "ms");
}

TEST(LavaSignal, FoundAfterConsoleNoise) {
  auto s =
      find_lava_signal("[   12.345] random: crng<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=fail>");
  ASSERT_TRUE(s);
  auto tc = test_case_of(*s);
  ASSERT_EQ(tc.index(), 0u);
  EXPECT_EQ(std::get<0>(tc).result, "fail");
  EXPECT_FALSE(std::get<0>(tc).measurement);
}

TEST(LavaSignal, RunMarkersAndQuotes) {
  auto start = find_lava_signal("<LAVA_SIGNAL_STARTRUN 0_smoke 4711>");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->name, "STARTRUN");
  EXPECT_EQ(start->args, (std::vector<std::string>{"0_smoke", "4711"}));
  auto quoted = find_lava_signal("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=\"two words\" RESULT=skip>");
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->fields.at("TEST_CASE_ID"), "two words");
}

TEST(LavaSignal, NotSignals) {
  EXPECT_FALSE(find_lava_signal("Linux version 6.1.0"));
  EXPECT_FALSE(find_lava_signal("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=pass"));
  EXPECT_FALSE(find_lava_signal("<LAVA_SIGNAL_>"));
  EXPECT_FALSE(find_lava_signal("<LAVA_SIGNAL_ x>"));
}

TEST(LavaSignal, BadTestCases) {
  auto check = [](const char* line, const char* problem) {
    auto s = find_lava_signal(line);
    ASSERT_TRUE(s) << line;
    auto tc = test_case_of(*s);
    ASSERT_EQ(tc.index(), 1u) << line;
    EXPECT_NE(std::get<1>(tc).find(problem), std::string::npos) << std::get<1>(tc);
  };
  check("<LAVA_SIGNAL_TESTCASE RESULT=pass>", "without TEST_CASE_ID");
  check("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a>", "'a' without RESULT");
  check("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=ok>", "RESULT=ok");
}

}  // namespace
}  // namespace crossrig::rig
