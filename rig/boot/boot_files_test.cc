#include "rig/boot/boot_files.h"

#include <gtest/gtest.h>

namespace crossrig::rig::boot {
namespace {

BootRequest request(BootMethod method, Arch arch) {
  BootRequest r;
  r.method = method;
  r.arch = arch;
  r.mac = "52:54:00:AB:00:01";
  r.prefix = "board1/";
  r.kernel = "vmlinux";
  r.ramdisk = "ramdisk.cpio.gz";
  r.cmdline = "console=hvc0 rdinit=/init";
  return r;
}

TEST(BootFiles, SlofGetsAPxelinuxConfigByMacAndADefault) {
  auto files = boot_files(request(BootMethod::kSlof, Arch::kPpc64));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "pxelinux.cfg/01-52-54-00-ab-00-01");
  EXPECT_EQ(files[1].path, "pxelinux.cfg/default");
  EXPECT_EQ(files[0].bytes, files[1].bytes);
  EXPECT_NE(files[0].bytes.find("KERNEL board1/vmlinux\n"), std::string::npos);
  EXPECT_NE(files[0].bytes.find("INITRD board1/ramdisk.cpio.gz\n"), std::string::npos);
  EXPECT_NE(files[0].bytes.find("APPEND console=hvc0 rdinit=/init\n"), std::string::npos);
  EXPECT_EQ(dhcp_bootfile(BootMethod::kSlof, "board1/"), "board1/");
}

TEST(BootFiles, SlofBoardWithoutMacGetsTheDefaultOnly) {
  auto r = request(BootMethod::kSlof, Arch::kPpc64le);
  r.mac.clear();
  auto files = boot_files(r);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, "pxelinux.cfg/default");
}

TEST(BootFiles, S390ConfigStartsWithThePxelinuxMarker) {
  auto files = boot_files(request(BootMethod::kS390Netboot, Arch::kS390x));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, "s390-netboot.cfg");
  EXPECT_EQ(files[0].bytes.rfind("# pxelinux\n", 0), 0u);
  EXPECT_NE(files[0].bytes.find("KERNEL board1/vmlinux\n"), std::string::npos);
  EXPECT_EQ(dhcp_bootfile(BootMethod::kS390Netboot, "board1/"), "board1/s390-netboot.cfg");
}

TEST(BootFiles, IpxeScriptUsesFullTftpUrls) {
  auto r = request(BootMethod::kIpxe, Arch::kX86_64);
  r.kernel = "bzImage";
  r.server = "10.99.0.1";
  auto files = boot_files(r);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, "boot.ipxe");
  EXPECT_EQ(files[0].bytes,
            "#!ipxe\n"
            "kernel tftp://10.99.0.1/board1/bzImage console=hvc0 rdinit=/init\n"
            "initrd tftp://10.99.0.1/board1/ramdisk.cpio.gz\n"
            "boot\n");
  r.server.reset();
  EXPECT_NE(boot_files(r)[0].bytes.find("tftp://${next-server}/board1/bzImage"), std::string::npos);
  EXPECT_EQ(dhcp_bootfile(BootMethod::kIpxe, "board1/"), "board1/boot.ipxe");
}

TEST(BootFiles, UbootScriptLoadsTheRamdiskLastAndBootsIt) {
  auto files = boot_files(request(BootMethod::kUboot, Arch::kAarch64));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, "boot.scr.uimg");
  const std::string& image = files[0].bytes;
  ASSERT_GT(image.size(), 72u);
  EXPECT_EQ(image.substr(0, 4), "\x27\x05\x19\x56");
  EXPECT_EQ(image[29], 22) << "arm64";
  EXPECT_EQ(image[30], 6) << "script";
  std::string script = image.substr(72);
  auto kernel = script.find("tftpboot ${kernel_addr_r} board1/vmlinux");
  auto ramdisk = script.find("tftpboot ${ramdisk_addr_r} board1/ramdisk.cpio.gz");
  auto booti =
      script.find("booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}");
  ASSERT_NE(kernel, std::string::npos) << script;
  ASSERT_NE(ramdisk, std::string::npos) << script;
  ASSERT_NE(booti, std::string::npos) << script;
  EXPECT_LT(kernel, ramdisk);
  EXPECT_LT(ramdisk, booti);
  EXPECT_NE(script.find("setenv bootargs 'console=hvc0 rdinit=/init'"), std::string::npos);
}

TEST(BootFiles, UbootScriptUsesTheBoardsDtbWhenItHasOne) {
  auto r = request(BootMethod::kUboot, Arch::kAarch64);
  r.dtb = "board.dtb";
  std::string script = boot_files(r)[0].bytes.substr(72);
  EXPECT_NE(script.find("tftpboot ${fdt_addr_r} board1/board.dtb"), std::string::npos);
  EXPECT_NE(script.find(":${filesize} ${fdt_addr_r}\n"), std::string::npos);
}

TEST(BootFiles, LinesTheFormatsCannotCarryAreRefused) {
  auto r = request(BootMethod::kUboot, Arch::kAarch64);
  r.cmdline = "console=ttyAMA0\nreset";
  EXPECT_THROW(boot_files(r), std::invalid_argument);
  r.cmdline = "it's";
  EXPECT_THROW(boot_files(r), std::invalid_argument);
  r = request(BootMethod::kIpxe, Arch::kX86_64);
  r.kernel = "bz Image";
  EXPECT_THROW(boot_files(r), std::invalid_argument);
  r = request(BootMethod::kIpxe, Arch::kX86_64);
  r.prefix = "board1";
  EXPECT_THROW(boot_files(r), std::invalid_argument);
}

}  // namespace
}  // namespace crossrig::rig::boot
