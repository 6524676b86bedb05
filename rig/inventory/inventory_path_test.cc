#include "rig/inventory/inventory_path.h"

#include <gtest/gtest.h>

#include <map>

namespace crossrig::rig {
namespace {

struct Files {
  std::map<std::string, std::string> contents;
  std::function<std::optional<std::string>(const std::string&)> reader() {
    return [this](const std::string& path) -> std::optional<std::string> {
      auto it = contents.find(path);
      if (it == contents.end()) return std::nullopt;
      return it->second;
    };
  }
};

TEST(InventoryPath, FlagFirst) {
  Files files{{{"/run/rig/lab-inventory", "/lab/inv.yaml\n"}}};
  InventoryLookup lookup{"mine.yaml", std::nullopt, "env.yaml", files.reader()};
  EXPECT_EQ(choose_inventory(lookup).path, "mine.yaml");
  EXPECT_EQ(choose_inventory(lookup).reason, "--inventory");
}

TEST(InventoryPath, RunningLabBeforeEnvironment) {
  Files files{{{"/run/rig/lab-inventory", "  /lab/inv.yaml\n"}}};
  InventoryLookup lookup{std::nullopt, std::nullopt, "env.yaml", files.reader()};
  EXPECT_EQ(choose_inventory(lookup).path, "/lab/inv.yaml");
  EXPECT_NE(choose_inventory(lookup).reason.find("/run/rig/lab-inventory"), std::string::npos);
}

TEST(InventoryPath, XdgRuntimeDirHoldsTheStateFile) {
  Files files{{{"/run/user/7/rig/lab-inventory", "/home/u/lab.yaml"},
               {"/run/rig/lab-inventory", "/other.yaml"}}};
  InventoryLookup lookup{std::nullopt, "/run/user/7", std::nullopt, files.reader()};
  EXPECT_EQ(lab_state_file(lookup), "/run/user/7/rig/lab-inventory");
  EXPECT_EQ(choose_inventory(lookup).path, "/home/u/lab.yaml");
}

TEST(InventoryPath, EnvironmentThenDefault) {
  Files files;
  InventoryLookup lookup{std::nullopt, std::nullopt, "env.yaml", files.reader()};
  EXPECT_EQ(choose_inventory(lookup).path, "env.yaml");
  lookup.rig_inventory.reset();
  EXPECT_EQ(choose_inventory(lookup).path, "inventory.yaml");
}

TEST(InventoryPath, EmptyStateFileIsIgnored) {
  Files files{{{"/run/rig/lab-inventory", "\n"}}};
  InventoryLookup lookup{std::nullopt, std::nullopt, "env.yaml", files.reader()};
  EXPECT_EQ(choose_inventory(lookup).path, "env.yaml");
}

}  // namespace
}  // namespace crossrig::rig
