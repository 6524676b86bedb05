#include "rig/boot/board_boot.h"

#include <gtest/gtest.h>

namespace crossrig::rig::boot {
namespace {

Board slof_board() {
  Board b;
  b.name = "cell";
  b.arch = Arch::kPpc64;
  b.boot = BootMethod::kSlof;
  b.mac = "00:1a:64:5c:13:a0";
  b.tftp_dir = "/srv/tftp/cell/";
  return b;
}

TEST(BoardBoot, PrefixIsTheTftpDirsLastComponent) {
  auto r = board_boot_request(slof_board(), "zImage", "ramdisk.gz", "console=hvc0");
  EXPECT_EQ(r.prefix, "cell/");
  EXPECT_EQ(r.mac, "00:1a:64:5c:13:a0");
  EXPECT_EQ(r.method, BootMethod::kSlof);
  EXPECT_EQ(r.arch, Arch::kPpc64);
  EXPECT_EQ(r.kernel, "zImage");
  EXPECT_EQ(r.cmdline, "console=hvc0");
}

TEST(BoardBoot, BoardWithoutTftpDirIsAnError) {
  Board b = slof_board();
  b.tftp_dir.reset();
  EXPECT_THROW(board_boot_request(b, "k", "r", ""), std::invalid_argument);
}

TEST(BoardBoot, CmdlineFileGivesItsFirstLineTrimmed) {
  EXPECT_EQ(cmdline_from_file_text("  console=ttyS0 rdinit=/init \nignored\n"),
            "console=ttyS0 rdinit=/init");
  EXPECT_EQ(cmdline_from_file_text(""), "");
  EXPECT_EQ(cmdline_from_file_text("\n"), "");
}

}  // namespace
}  // namespace crossrig::rig::boot
