#include "rig/lava/lava_export.h"

#include <gtest/gtest.h>

#include "rig/inventory/inventory.h"

namespace crossrig::rig::lava {
namespace {

const std::string kExample = std::string(CROSSRIG_SOURCE_DIR) + "/rig/inventory/examples/lab.yaml";

std::vector<std::string> paths(const ExportPlan& plan) {
  std::vector<std::string> out;
  for (const auto& f : plan.files)
    out.push_back(f.path);
  return out;
}

TEST(LavaExport, ExampleLabGivesTypesDevicesAndTheJobsBoardsHave) {
  Inventory inventory = load_inventory(kExample);
  ExportPlan plan = plan_export(inventory, {}, {std::nullopt, "/lab"});
  ASSERT_TRUE(plan.problems.empty()) << plan.problems.front();
  // Only cell-qs22 has a job: mapping.
  EXPECT_EQ(paths(plan), (std::vector<std::string>{
                             "device-types/crossrig-uboot.jinja2",
                             "device-types/crossrig-slof.jinja2",
                             "device-types/crossrig-s390-netboot.jinja2",
                             "devices/cell-qs22.jinja2",
                             "jobs/cell-qs22-default.yaml",
                             "devices/rpi4.jinja2",
                             "devices/z-guest.jinja2",
                         }));
  for (const auto& f : plan.files) {
    EXPECT_FALSE(f.text.empty()) << f.path;
    EXPECT_EQ(f.device_type.rfind("crossrig-", 0), 0u) << f.path;
  }
}

TEST(LavaExport, BoardsChoosesAndOnlyTheirTypesAreWritten) {
  Inventory inventory = load_inventory(kExample);
  ExportPlan plan = plan_export(inventory, {"rpi4"}, {std::nullopt, "/lab"});
  EXPECT_EQ(paths(plan), (std::vector<std::string>{"device-types/crossrig-uboot.jinja2",
                                                   "devices/rpi4.jinja2"}));
}

TEST(LavaExport, EveryProblemNamesFileLineBoardAndFieldAndNothingIsWritten) {
  Inventory inventory = load_inventory(kExample);
  for (auto& b : inventory.boards)
    b.console.reset();
  ExportPlan plan =
      plan_export(inventory, {"rpi4", "no-such-board", "z-guest"}, {std::nullopt, "/lab"});
  EXPECT_TRUE(plan.files.empty());
  ASSERT_EQ(plan.problems.size(), 3u);
  EXPECT_NE(plan.problems[0].find("no board 'no-such-board'"), std::string::npos);
  EXPECT_EQ(plan.problems[1].rfind(kExample + ":", 0), 0u) << plan.problems[1];
  EXPECT_NE(plan.problems[1].find("board 'rpi4': console: "), std::string::npos)
      << plan.problems[1];
  EXPECT_NE(plan.problems[2].find("board 'z-guest': console: "), std::string::npos);
}

TEST(LavaExport, QemuTargetWritesQemuDevicesAndJobsAndNoTypes) {
  Inventory inventory = load_inventory(kExample);
  // Console and power are the worker's QEMU's, not the board's.
  for (auto& b : inventory.boards)
    b.console.reset();
  ExportPlan plan = plan_export(inventory, {}, {std::nullopt, "/lab"}, ExportTarget::kQemu);
  ASSERT_TRUE(plan.problems.empty()) << plan.problems.front();
  EXPECT_EQ(paths(plan), (std::vector<std::string>{
                             "devices/cell-qs22.jinja2",
                             "jobs/cell-qs22-default.yaml",
                             "devices/rpi4.jinja2",
                             "devices/z-guest.jinja2",
                         }));
  for (const auto& f : plan.files) {
    EXPECT_EQ(f.device_type, "qemu") << f.path;
  }
}

}  // namespace
}  // namespace crossrig::rig::lava
