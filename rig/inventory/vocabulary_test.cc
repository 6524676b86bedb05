#include "rig/inventory/vocabulary.h"

#include <gtest/gtest.h>

namespace crossrig::rig {
namespace {

TEST(Vocabulary, ArchesUseUnameSpellings) {
  for (const char* name : {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x"}) {
    auto arch = parse_arch(name);
    ASSERT_TRUE(arch) << name;
    EXPECT_EQ(arch_name(*arch), name);
  }
  EXPECT_FALSE(parse_arch("arm64"));
  EXPECT_FALSE(parse_arch("ppc"));
  EXPECT_FALSE(parse_arch("X86_64"));
  EXPECT_EQ(arch_names(), "x86_64, aarch64, ppc64, ppc64le, s390x");
}

TEST(Vocabulary, BootMethods) {
  for (const char* name : {"uboot", "slof", "s390-netboot", "ipxe"}) {
    auto boot = parse_boot_method(name);
    ASSERT_TRUE(boot) << name;
    EXPECT_EQ(boot_method_name(*boot), name);
  }
  EXPECT_FALSE(parse_boot_method("grub"));
}

TEST(Vocabulary, PowerDriverSchemas) {
  const auto* hs100 = find_power_driver_schema("hs100");
  ASSERT_NE(hs100, nullptr);
  EXPECT_EQ(hs100->required.size(), 1u);
  EXPECT_EQ(hs100->required[0], "address");
  const auto* command = find_power_driver_schema("command");
  ASSERT_NE(command, nullptr);
  EXPECT_EQ(command->required.size(), 3u);
  EXPECT_EQ(find_power_driver_schema("apc"), nullptr);
}

}  // namespace
}  // namespace crossrig::rig
