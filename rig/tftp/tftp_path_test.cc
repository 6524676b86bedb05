#include "rig/tftp/tftp_path.h"

#include <gtest/gtest.h>

namespace crossrig::rig::tftp {
namespace {

std::string ok(std::string_view name) {
  auto r = confine(name);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "(refused)";
}

std::string refused(std::string_view name) {
  auto r = confine(name);
  return std::holds_alternative<PathRefused>(r) ? std::get<PathRefused>(r).reason : "(allowed)";
}

TEST(TftpPath, NormalisesWithinTheRoot) {
  EXPECT_EQ(ok("vmlinux"), "vmlinux");
  EXPECT_EQ(ok("/boot/vmlinux"), "boot/vmlinux");
  EXPECT_EQ(ok("boot//./x.img"), "boot/x.img");
  EXPECT_EQ(ok("a..b/..c"), "a..b/..c");
}

TEST(TftpPath, RefusesEscapesAndControlCharacters) {
  EXPECT_EQ(refused("../etc/passwd"), "file name contains '..'");
  EXPECT_EQ(refused("boot/../../x"), "file name contains '..'");
  EXPECT_EQ(refused("/.."), "file name contains '..'");
  EXPECT_EQ(refused("a\nb"), "file name contains control characters");
  EXPECT_EQ(refused("/"), "file name names no file");
  EXPECT_EQ(refused("./"), "file name names no file");
}

}  // namespace
}  // namespace crossrig::rig::tftp
