#include "rig/power/drivers.h"

#include <gtest/gtest.h>

#include "rig/inventory/vocabulary.h"

namespace crossrig::rig {
namespace {

TEST(PowerDrivers, EveryInventorySchemaHasADriverAndBack) {
  auto drivers = power_drivers();
  auto schemas = power_driver_schemas();
  ASSERT_EQ(drivers.size(), schemas.size());
  for (const auto& schema : schemas) {
    bool found = false;
    for (const auto& d : drivers)
      found = found || d.name == schema.driver;
    EXPECT_TRUE(found) << schema.driver;
  }
}

TEST(PowerDrivers, OptionsFromTheBoard) {
  Board b;
  b.power.driver = "command";
  PowerOptions defaults = power_options_of(b);
  EXPECT_EQ(defaults.timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(defaults.confirm_attempts, 5);
  b.power.settings = {{"timeout", "1.5"}, {"confirm_attempts", "2"}, {"confirm_interval", "0.1"}};
  PowerOptions o = power_options_of(b);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(o.confirm_attempts, 2);
  EXPECT_EQ(o.confirm_interval, std::chrono::milliseconds(100));
}

TEST(PowerDrivers, UnknownDriverIsAUsageError) {
  Board b;
  b.name = "x";
  b.power.driver = "apc";
  try {
    make_power_switch(b, {});
    FAIL();
  } catch (const PowerError& e) {
    EXPECT_EQ(e.exit_code(), 2);
  }
}

}  // namespace
}  // namespace crossrig::rig
