#include "rig/lava/device_types.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace crossrig::rig::lava {
namespace {

TEST(DeviceTypes, EveryBootMethodHasItsOwnType) {
  std::set<std::string_view> names;
  for (BootMethod boot :
       {BootMethod::kUboot, BootMethod::kSlof, BootMethod::kS390Netboot, BootMethod::kIpxe}) {
    const LavaDeviceType& type = lava_device_type(boot);
    EXPECT_EQ(type.boot, boot);
    EXPECT_EQ(type.name.rfind("crossrig-", 0), 0u) << type.name;
    names.insert(type.name);
  }
  EXPECT_EQ(names.size(), 4u);
  EXPECT_EQ(lava_device_types().size(), 4u);
}

TEST(DeviceTypes, FirmwareLavaDrivesDeploysOverTftpTheRestIsPowerCycled) {
  EXPECT_EQ(lava_device_type(BootMethod::kUboot).boot_method, "u-boot");
  EXPECT_TRUE(lava_device_type(BootMethod::kUboot).tftp_deploy);
  EXPECT_EQ(lava_device_type(BootMethod::kIpxe).boot_method, "ipxe");
  EXPECT_TRUE(lava_device_type(BootMethod::kIpxe).tftp_deploy);
  for (BootMethod boot : {BootMethod::kSlof, BootMethod::kS390Netboot}) {
    EXPECT_EQ(lava_device_type(boot).boot_method, "minimal");
    EXPECT_FALSE(lava_device_type(boot).tftp_deploy);
  }
}

TEST(DeviceTypes, TemplatesExtendLavasBaseTemplatesAndOfferTheirBootMethod) {
  for (const auto& type : lava_device_types()) {
    std::string text(type.template_text);
    bool extends_base = text.find("{% extends 'base.jinja2' %}") != std::string::npos ||
                        text.find("{% extends 'base-uboot.jinja2' %}") != std::string::npos;
    EXPECT_TRUE(extends_base) << type.name;
    // base-uboot.jinja2 lists u-boot and minimal itself; the others list theirs.
    if (type.boot != BootMethod::kUboot) {
      EXPECT_NE(text.find(std::string(type.boot_method) + ":"), std::string::npos) << type.name;
    }
  }
}

TEST(DeviceTypes, EveryArchHasAnMkimageName) {
  EXPECT_EQ(mkimage_arch(Arch::kAarch64), "arm64");
  EXPECT_EQ(mkimage_arch(Arch::kX86_64), "x86_64");
  EXPECT_EQ(mkimage_arch(Arch::kPpc64), "powerpc");
  EXPECT_EQ(mkimage_arch(Arch::kPpc64le), "powerpc");
  EXPECT_EQ(mkimage_arch(Arch::kS390x), "s390");
}

}  // namespace
}  // namespace crossrig::rig::lava
