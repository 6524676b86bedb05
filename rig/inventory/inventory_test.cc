#include "rig/inventory/inventory.h"

#include <gtest/gtest.h>

namespace crossrig::rig {
namespace {

constexpr const char* kGood = R"(boards:
  cell:
    arch: ppc64
    boot: slof
    power:
      driver: hs100
      address: 10.0.0.5
    console: 10.0.0.2:7001
    mac: 00:1A:64:5C:13:A0
    tftp_dir: /srv/tftp/cell
    kernel: vmlinux
    off_time: 0.5
  strip-board:
    arch: aarch64
    boot: uboot
    power: {driver: hs100, address: "10.0.0.6:9999", outlet: 3, transport: klap}
)";

// The problems parse_inventory reports for yaml, joined by newlines ("" if it loads).
std::string problems_of(const std::string& yaml) {
  try {
    parse_inventory(yaml, "inv.yaml");
    return "";
  } catch (const InventoryError& e) {
    return e.what();
  }
}

TEST(Inventory, LoadsBoardsInOrder) {
  Inventory inv = parse_inventory(kGood, "inv.yaml");
  ASSERT_EQ(inv.boards.size(), 2u);
  const Board& cell = inv.boards[0];
  EXPECT_EQ(cell.name, "cell");
  EXPECT_EQ(cell.arch, Arch::kPpc64);
  EXPECT_EQ(cell.boot, BootMethod::kSlof);
  EXPECT_EQ(cell.power.driver, "hs100");
  EXPECT_EQ(cell.power.settings.at("address"), "10.0.0.5");
  EXPECT_EQ(cell.console, "10.0.0.2:7001");
  EXPECT_EQ(cell.mac, "00:1a:64:5c:13:a0");
  EXPECT_EQ(cell.kernel, "vmlinux");
  EXPECT_FALSE(cell.ramdisk);
  EXPECT_EQ(cell.off_time_s, 0.5);
  EXPECT_EQ(cell.line, 2);
  const Board* strip = inv.find("strip-board");
  ASSERT_NE(strip, nullptr);
  EXPECT_EQ(strip->power.settings.at("outlet"), "3");
  EXPECT_EQ(strip->off_time_s, 2.0);
  EXPECT_EQ(inv.find("nope"), nullptr);
}

TEST(Inventory, UnknownKeyNamesBoardFieldAndLine) {
  std::string yaml = kGood;
  yaml += "    colour: blue\n";
  EXPECT_EQ(problems_of(yaml).substr(0, 57),
            "inv.yaml:17: board 'strip-board': colour: unknown field; ");
}

TEST(Inventory, WrongTypes) {
  auto p = problems_of(
      "boards:\n  b:\n    arch: [x86_64]\n    boot: ipxe\n    power: hs100\n    off_time: soon\n");
  EXPECT_NE(p.find("inv.yaml:3: board 'b': arch: must be a single value, not a list"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("inv.yaml:5: board 'b': power: must be a mapping"), std::string::npos) << p;
  EXPECT_NE(p.find("inv.yaml:6: board 'b': off_time: 'soon' is not a number"), std::string::npos)
      << p;
}

TEST(Inventory, UnknownArchAndBootListTheChoices) {
  auto p = problems_of(
      "boards:\n  b:\n    arch: arm64\n    boot: grub\n    power: {driver: hs100, address: x}\n");
  EXPECT_NE(p.find("inv.yaml:3: board 'b': arch: unknown arch 'arm64'; use the `uname -m` "
                   "spelling: x86_64, aarch64, ppc64, ppc64le, s390x"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("inv.yaml:4: board 'b': boot: unknown boot method 'grub'"), std::string::npos)
      << p;
}

TEST(Inventory, DuplicateNamesAndMacs) {
  auto p = problems_of(
      "boards:\n"
      "  a: {arch: x86_64, boot: ipxe, power: {driver: hs100, address: x}, mac: "
      "02:00:00:00:00:01}\n"
      "  b: {arch: x86_64, boot: ipxe, power: {driver: hs100, address: y}, mac: "
      "02-00-00-00-00-01}\n"
      "  a: {arch: x86_64, boot: ipxe, power: {driver: hs100, address: z}}\n");
  EXPECT_NE(p.find("inv.yaml:4: board 'a': the name is used twice (first on line 2)"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("inv.yaml:3: board 'b': mac: 02:00:00:00:00:01 is also board 'a''s"),
            std::string::npos)
      << p;
}

TEST(Inventory, BadAddresses) {
  auto p = problems_of(
      "boards:\n  b:\n    arch: x86_64\n    boot: ipxe\n    power: {driver: hs100, address: "
      "'h:99999'}\n    console: consoles.lab\n    mac: 00:11:22\n");
  EXPECT_NE(p.find("board 'b': power.address:"), std::string::npos) << p;
  EXPECT_NE(p.find("inv.yaml:6: board 'b': console: give it as HOST:PORT"), std::string::npos) << p;
  EXPECT_NE(p.find("inv.yaml:7: board 'b': mac: '00:11:22' is not a MAC address"),
            std::string::npos)
      << p;
}

TEST(Inventory, PowerSectionChecks) {
  auto p = problems_of(
      "boards:\n"
      "  a: {arch: x86_64, boot: ipxe, power: {driver: apc}}\n"
      "  b: {arch: x86_64, boot: ipxe, power: {address: x}}\n"
      "  c: {arch: x86_64, boot: ipxe, power: {driver: hs100, address: x, password: hunter2}}\n"
      "  d: {arch: x86_64, boot: ipxe, power: {driver: command, on: 'x {console}', off: y}}\n"
      "  e: {arch: x86_64, boot: ipxe}\n");
  EXPECT_NE(p.find("inv.yaml:2: board 'a': power.driver: unknown driver 'apc'; use one of "
                   "hs100, command"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("board 'b': power.driver: missing"), std::string::npos) << p;
  EXPECT_NE(p.find("board 'c': power.password: unknown setting for the hs100 driver"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("board 'd': power.state: missing; the command driver needs it"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("board 'd': power.on: '{console}' names no field"), std::string::npos) << p;
  EXPECT_NE(p.find("inv.yaml:6: board 'e': power: missing"), std::string::npos) << p;
}

TEST(Inventory, TopLevelAndSyntax) {
  EXPECT_NE(problems_of("boards: [a, b]\n").find("inv.yaml:1: boards: must be a mapping"),
            std::string::npos);
  EXPECT_NE(problems_of("labs: {}\n").find("labs: unknown top-level key"), std::string::npos);
  EXPECT_NE(problems_of("- 1\n").find("an inventory is a mapping"), std::string::npos);
  EXPECT_NE(problems_of("boards:\n  a: {arch: [\n").find("inv.yaml:"), std::string::npos);
  EXPECT_NE(problems_of("boards:\n  a: {arch: [\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(problems_of("").find("an inventory is a mapping"), std::string::npos);
}

TEST(Inventory, FileNamesStayInTftpDir) {
  auto p = problems_of(
      "boards:\n  b:\n    arch: x86_64\n    boot: ipxe\n    power: {driver: hs100, address: x}\n"
      "    kernel: ../../etc/shadow\n    tftp_dir: srv\n");
  EXPECT_NE(p.find("inv.yaml:6: board 'b': kernel: give a file name inside"), std::string::npos)
      << p;
  EXPECT_NE(p.find("inv.yaml:7: board 'b': tftp_dir: give an absolute path"), std::string::npos)
      << p;
}

constexpr const char* kJobBoard = R"(boards:
  b:
    arch: s390x
    boot: s390-netboot
    power: {driver: hs100, address: 10.0.0.5}
    job:
)";

TEST(Inventory, DefaultJobPathsAreRelativeToTheInventory) {
  Inventory inv = parse_inventory(std::string(kJobBoard) +
                                      "      kernel: kernels/vmlinuz\n"
                                      "      ramdisk: /cache/initrd.cpio.gz\n"
                                      "      dtb: ../dtbs/virt.dtb\n"
                                      "      cmdline: console=ttyS0 quiet\n"
                                      "      timeout: 90\n",
                                  "/srv/lab/inventory.yaml");
  ASSERT_TRUE(inv.boards[0].job);
  const BoardJob& job = *inv.boards[0].job;
  EXPECT_EQ(job.kernel, "/srv/lab/kernels/vmlinuz");
  EXPECT_EQ(job.ramdisk, "/cache/initrd.cpio.gz");
  EXPECT_EQ(job.dtb, "/srv/dtbs/virt.dtb");
  EXPECT_EQ(job.cmdline, "console=ttyS0 quiet");
  EXPECT_EQ(job.timeout_s, 90.0);
  EXPECT_FALSE(parse_inventory(kGood, "inv.yaml").boards[0].job) << "no job: none";
}

TEST(Inventory, DefaultJobMistakesNameBoardFieldAndLine) {
  EXPECT_EQ(problems_of(std::string(kJobBoard) + "      kernel: k\n"),
            "inv.yaml:7: board 'b': job.ramdisk: missing; a job needs a kernel and a ramdisk");
  EXPECT_EQ(problems_of(std::string(kJobBoard) +
                        "      kernel: k\n      ramdisk: r\n      timeout: forever\n"
                        "      initrd: x\n"),
            "inv.yaml:9: board 'b': job.timeout: 'forever' is not a number of seconds from 0 "
            "to 3600\n"
            "inv.yaml:10: board 'b': job.initrd: unknown job field; known fields: kernel, "
            "ramdisk, dtb, cmdline, timeout");
  EXPECT_EQ(problems_of(std::string(kJobBoard) + "      kernel: [a, b]\n      ramdisk: r\n"),
            "inv.yaml:7: board 'b': job.kernel: must be a single value, not a list");
  EXPECT_EQ(problems_of(
                std::string(kJobBoard).replace(std::string(kJobBoard).size() - 1, 1, " vmlinuz\n")),
            "inv.yaml:6: board 'b': job: must be a mapping with kernel and ramdisk (and dtb, "
            "cmdline, timeout), not a single value");
}

TEST(Inventory, ShippedExampleLoads) {
  Inventory inv = load_inventory(CROSSRIG_SOURCE_DIR "/rig/inventory/examples/lab.yaml");
  ASSERT_EQ(inv.boards.size(), 3u);
  EXPECT_EQ(inv.boards[0].arch, Arch::kPpc64);
  EXPECT_EQ(inv.boards[0].boot, BootMethod::kSlof);
  EXPECT_EQ(inv.boards[0].power.driver, "hs100");
  ASSERT_TRUE(inv.boards[0].job);
  EXPECT_EQ(inv.boards[0].job->kernel,
            CROSSRIG_SOURCE_DIR "/rig/inventory/examples/images/cell/vmlinux");
  EXPECT_EQ(inv.boards[1].arch, Arch::kAarch64);
  EXPECT_EQ(inv.boards[1].power.settings.at("outlet"), "3");
  EXPECT_EQ(inv.boards[2].arch, Arch::kS390x);
  EXPECT_EQ(inv.boards[2].power.driver, "command");
}

TEST(Inventory, UnreadableFile) {
  try {
    load_inventory("/nonexistent/inv.yaml");
    FAIL() << "loaded a missing file";
  } catch (const InventoryError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/inv.yaml: cannot read"), std::string::npos);
  }
}

}  // namespace
}  // namespace crossrig::rig
