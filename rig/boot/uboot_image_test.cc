#include "rig/boot/uboot_image.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rig/boot/crc32.h"

namespace crossrig::rig::boot {
namespace {

namespace fs = std::filesystem;

// Runs one of u-boot-tools' programs (scripts/setup installs them) and returns what it wrote.
std::string run_tool(const std::string& command, const fs::path& output) {
  int rc = std::system((command + " >/dev/null").c_str());
  EXPECT_EQ(rc, 0) << command;
  std::ifstream in(output, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

class UbootImage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rig-boot-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  fs::path dir_;
};

TEST(Crc32, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
}

TEST_F(UbootImage, ScriptImageIsWhatMkimageMakes) {
  const std::string script = "setenv bootargs 'console=ttyAMA0'\nbooti ${kernel_addr_r}\n";
  auto source = write("boot.txt", script);
  for (auto [arch, name] : {std::pair{UbootArch::kArm64, "arm64"}, {UbootArch::kPowerPc, "ppc"}}) {
    auto expected = run_tool("SOURCE_DATE_EPOCH=1000 mkimage -A " + std::string(name) +
                                 " -O linux -T script -C none -n 'rig boot script' -d " +
                                 source.string() + " " + (dir_ / "boot.scr").string(),
                             dir_ / "boot.scr");
    EXPECT_EQ(script_image(script, "rig boot script", arch, 1000), expected) << name;
  }
}

TEST_F(UbootImage, MkimageAcceptsItsHeaderCrcs) {
  auto image = write("ours.scr", script_image("echo hello\n", "x", UbootArch::kArm64, 0));
  auto listing = dir_ / "listing";
  ASSERT_EQ(std::system(("mkimage -l " + image.string() + " > " + listing.string()).c_str()), 0);
  std::ifstream in(listing);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("AArch64 Linux Script"), std::string::npos) << text.str();
}

TEST_F(UbootImage, EnvironmentImageIsWhatMkenvimageMakes) {
  std::map<std::string, std::string> vars{{"bootcmd", "dhcp && source ${loadaddr}"},
                                          {"ethaddr", "52:54:00:12:34:56"}};
  auto text = write("env.txt", "bootcmd=dhcp && source ${loadaddr}\nethaddr=52:54:00:12:34:56\n");
  auto expected =
      run_tool("mkenvimage -s 0x1000 -o " + (dir_ / "env.bin").string() + " " + text.string(),
               dir_ / "env.bin");
  EXPECT_EQ(environment_image(vars, 0x1000), expected);
}

TEST(UbootEnvironment, TooManyVariablesAreRefused) {
  EXPECT_THROW(environment_image({{"a", std::string(100, 'x')}}, 64), std::length_error);
}

}  // namespace
}  // namespace crossrig::rig::boot
