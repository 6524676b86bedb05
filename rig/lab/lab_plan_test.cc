#include "rig/lab/lab_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "rig/inventory/inventory.h"

namespace crossrig::rig::lab {
namespace {

LabPlan two_boards() {
  std::vector<Arch> arches{Arch::kAarch64, Arch::kX86_64};
  LabPlan plan = plan_lab("/run/rig/lab", "riglab-1", arches);
  for (auto& b : plan.boards) {
    b.plug_port = 9000 + static_cast<int>(b.ip.back());
    b.console_port = 7000 + static_cast<int>(b.ip.back());
  }
  return plan;
}

TEST(LabPlan, BoardsKeepTheirIdentityWhicheverOthersAreUp) {
  LabPlan plan = two_boards();
  ASSERT_EQ(plan.boards.size(), 2u);
  // Table order, not request order.
  EXPECT_EQ(plan.boards[0].name, "qemu-x86_64");
  EXPECT_EQ(plan.boards[0].mac, "52:54:00:72:69:10");
  EXPECT_EQ(plan.boards[0].ip, "10.99.0.10");
  EXPECT_EQ(plan.boards[1].name, "qemu-aarch64");
  EXPECT_EQ(plan.boards[1].mac, "52:54:00:72:69:11");
  EXPECT_EQ(plan.boards[1].tftp_dir, "/run/rig/lab/tftp/qemu-aarch64");
  std::vector<Arch> one{Arch::kAarch64};
  EXPECT_EQ(plan_lab("/x", "n", one).boards[0].mac, "52:54:00:72:69:11");
  EXPECT_NE(plan.find("qemu-aarch64"), nullptr);
  EXPECT_EQ(plan.find("qemu-s390x"), nullptr);
}

TEST(LabPlan, DnsmasqServesOnlyDhcpToTheBoardsWithTheirBootFiles) {
  std::string c = dnsmasq_config(two_boards());
  EXPECT_NE(c.find("port=0\n"), std::string::npos);
  EXPECT_EQ(c.find("enable-tftp"), std::string::npos);
  EXPECT_NE(c.find("interface=rigbr0\n"), std::string::npos);
  EXPECT_NE(c.find("static"), std::string::npos);
  EXPECT_NE(c.find("dhcp-host=52:54:00:72:69:10,10.99.0.10,set:qemu-x86_64\n"), std::string::npos);
  EXPECT_NE(c.find("dhcp-boot=tag:qemu-x86_64,qemu-x86_64/boot.ipxe,,10.99.0.1\n"),
            std::string::npos);
  EXPECT_NE(c.find("dhcp-boot=tag:qemu-aarch64,qemu-aarch64/boot.scr.uimg,,10.99.0.1\n"),
            std::string::npos);
}

TEST(LabPlan, InventoryIsOneRigReadsBack) {
  LabPlan plan = two_boards();
  Inventory inv = parse_inventory(inventory_yaml(plan), "lab");
  ASSERT_EQ(inv.boards.size(), 2u);
  const Board* b = inv.find("qemu-aarch64");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->arch, Arch::kAarch64);
  EXPECT_EQ(b->boot, BootMethod::kUboot);
  EXPECT_EQ(b->power.driver, "hs100");
  EXPECT_EQ(b->power.settings.at("address"),
            "127.0.0.1:" + std::to_string(plan.boards[1].plug_port));
  EXPECT_EQ(*b->console, "127.0.0.1:" + std::to_string(plan.boards[1].console_port));
  EXPECT_EQ(*b->mac, "52:54:00:72:69:11");
  EXPECT_EQ(*b->tftp_dir, "/run/rig/lab/tftp/qemu-aarch64");
  EXPECT_EQ(*b->kernel, "Image");
  EXPECT_EQ(*b->ramdisk, "ramdisk.cpio.gz");
}

bool has(const std::vector<std::string>& args, const std::string& arg) {
  return std::find(args.begin(), args.end(), arg) != args.end();
}

TEST(LabPlan, QemuUsesTheInheritedTapAndConsoleSocket) {
  LabPlan plan = two_boards();
  auto x86 = qemu_args(plan.boards[0], 3, 4, "console=ttyS0");
  EXPECT_EQ(x86[0], "qemu-system-x86_64");
  EXPECT_TRUE(has(x86, "tap,id=net0,fd=3"));
  EXPECT_TRUE(has(x86, "socket,id=console,fd=4,server=on,wait=on"));
  EXPECT_TRUE(has(x86, "virtio-net-pci,netdev=net0,mac=52:54:00:72:69:10,bootindex=1"));
  EXPECT_TRUE(has(x86, "unix:/run/rig/lab/boards/qemu-x86_64/qmp.sock,server=on,wait=off"));
  EXPECT_TRUE(has(x86, "-no-reboot"));
  auto arm = qemu_args(plan.boards[1], 3, 4, "console=ttyAMA0");
  EXPECT_TRUE(has(arm, "/usr/lib/u-boot/qemu_arm64/u-boot.bin"));
  EXPECT_TRUE(
      has(arm, "if=pflash,unit=1,format=raw,file=/run/rig/lab/boards/qemu-aarch64/flash1.img"));
  EXPECT_TRUE(has(arm, "virtio-net-pci,netdev=net0,mac=52:54:00:72:69:11"));
  EXPECT_FALSE(has(arm, "-prom-env"));
}

TEST(LabPlan, SlofBoardsTakeTheCommandLineFromNvram) {
  std::vector<Arch> pseries{Arch::kPpc64, Arch::kPpc64le};
  for (const auto& board : plan_lab("/x", "n", pseries).boards) {
    auto args = qemu_args(board, 3, 4, "console=hvc0 rdinit=/init lab.job=7");
    auto at = std::find(args.begin(), args.end(), "-prom-env");
    ASSERT_NE(at, args.end()) << board.name;
    EXPECT_EQ(at[1], "boot-file=console=hvc0 rdinit=/init lab.job=7") << board.name;
  }
}

TEST(LabPlan, UbootEnvironmentCarriesTheMacAndBootsTheDhcpFile) {
  auto env = uboot_environment(two_boards().boards[1]);
  EXPECT_EQ(env.at("ethaddr"), "52:54:00:72:69:11");
  EXPECT_NE(env.at("bootcmd").find("dhcp && source ${loadaddr}"), std::string::npos);
  EXPECT_EQ(default_cmdline(board_type(Arch::kAarch64)), "console=ttyAMA0 rdinit=/init");
}

TEST(LabPlan, StatusJsonNamesEveryBoardsPorts) {
  auto j = lab_json(two_boards(), 42);
  EXPECT_EQ(j["netns"], "riglab-1");
  EXPECT_EQ(j["supervisor_pid"], 42);
  ASSERT_EQ(j["boards"].size(), 2u);
  EXPECT_EQ(j["boards"][1]["boot"], "uboot");
  EXPECT_EQ(j["boards"][1]["arch"], "aarch64");
}

}  // namespace
}  // namespace crossrig::rig::lab
