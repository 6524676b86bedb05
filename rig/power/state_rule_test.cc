#include "rig/power/state_rule.h"

#include <gtest/gtest.h>

namespace crossrig::rig {
namespace {

TEST(StateRule, ExitCodeWithoutPatterns) {
  StateRule rule;
  EXPECT_EQ(read_state(rule, 0, "").on, true);
  EXPECT_EQ(read_state(rule, 1, "whatever").on, false);
  StateReading bad = read_state(rule, 2, "");
  EXPECT_FALSE(bad.on);
  EXPECT_NE(bad.problem.find("exited with 2"), std::string::npos);
}

TEST(StateRule, BothPatterns) {
  StateRule rule{"^outlet 7: ON", "^outlet 7: OFF"};
  EXPECT_EQ(read_state(rule, 0, "pdu1\noutlet 7: ON\n").on, true);
  EXPECT_EQ(read_state(rule, 0, "outlet 7: OFF\n").on, false);
  StateReading neither = read_state(rule, 0, "outlet 7: REBOOTING\n");
  EXPECT_FALSE(neither.on);
  EXPECT_NE(neither.problem.find("'outlet 7: REBOOTING', which matches neither"),
            std::string::npos);
  StateReading failed = read_state(rule, 3, "no route\n");
  EXPECT_FALSE(failed.on);
  EXPECT_NE(failed.problem.find("exited with 3 and printed 'no route'"), std::string::npos);
}

TEST(StateRule, OnePatternMeansTheOtherStateOtherwise) {
  EXPECT_EQ(read_state({"on", std::nullopt}, 0, "power on").on, true);
  EXPECT_EQ(read_state({"^on$", std::nullopt}, 0, "power is off").on, false);
  EXPECT_EQ(read_state({std::nullopt, "0"}, 0, "1").on, true);
  EXPECT_EQ(read_state({std::nullopt, "0"}, 0, "0").on, false);
}

}  // namespace
}  // namespace crossrig::rig
