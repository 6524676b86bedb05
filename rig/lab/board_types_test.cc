#include "rig/lab/board_types.h"

#include <gtest/gtest.h>

#include <set>

namespace crossrig::rig::lab {
namespace {

TEST(BoardTypes, OneRowPerArchWithTheBootMethodOfTheIssue) {
  std::set<Arch> seen;
  for (const auto& t : board_types())
    EXPECT_TRUE(seen.insert(t.arch).second);
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(board_type(Arch::kX86_64).boot, BootMethod::kIpxe);
  EXPECT_EQ(board_type(Arch::kAarch64).boot, BootMethod::kUboot);
  EXPECT_EQ(board_type(Arch::kPpc64).boot, BootMethod::kSlof);
  EXPECT_EQ(board_type(Arch::kPpc64le).boot, BootMethod::kSlof);
  EXPECT_EQ(board_type(Arch::kS390x).boot, BootMethod::kS390Netboot);
}

TEST(BoardTypes, ConsolesAndKernelsAreWhatEachFirmwareAndKernelUse) {
  EXPECT_EQ(board_type(Arch::kX86_64).console, "ttyS0");
  EXPECT_EQ(board_type(Arch::kAarch64).console, "ttyAMA0");
  EXPECT_EQ(board_type(Arch::kPpc64).console, "hvc0");
  EXPECT_EQ(board_type(Arch::kS390x).console, "ttysclp0");
  EXPECT_EQ(board_type(Arch::kAarch64).kernel_name, "Image");
  EXPECT_EQ(board_type(Arch::kPpc64).kernel_name, "vmlinux");
  // Only U-Boot keeps its MAC in a flash environment; the others take QEMU's.
  for (const auto& t : board_types())
    EXPECT_EQ(t.uboot_env_flash, t.boot == BootMethod::kUboot);
}

TEST(BoardTypes, EveryRowNamesAnInstalledLookingQemu) {
  for (const auto& t : board_types()) {
    EXPECT_EQ(t.qemu.rfind("qemu-system-", 0), 0u) << t.qemu;
    EXPECT_FALSE(t.machine.empty());
    EXPECT_GE(t.memory_mib, 256);
  }
}

}  // namespace
}  // namespace crossrig::rig::lab
