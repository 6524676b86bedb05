#include "rig/inventory/field_syntax.h"

#include <gtest/gtest.h>

namespace crossrig::rig {
namespace {

TEST(FieldSyntax, BoardNames) {
  EXPECT_FALSE(check_board_name("cell-qs22"));
  EXPECT_FALSE(check_board_name("rpi4.lab_1"));
  EXPECT_TRUE(check_board_name(""));
  EXPECT_TRUE(check_board_name("a b"));
  EXPECT_TRUE(check_board_name("../etc"));
  EXPECT_TRUE(check_board_name("-rf"));
  EXPECT_TRUE(check_board_name(std::string(65, 'a')));
}

TEST(FieldSyntax, MacsAreNormalized) {
  EXPECT_EQ(normalize_mac("00:1A:64:5C:13:A0"), "00:1a:64:5c:13:a0");
  EXPECT_EQ(normalize_mac("00-1a-64-5c-13-a0"), "00:1a:64:5c:13:a0");
  EXPECT_FALSE(normalize_mac("00:1a:64:5c:13"));
  EXPECT_FALSE(normalize_mac("00:1a:64:5c:13:ag"));
  EXPECT_FALSE(normalize_mac("001a:64:5c:13:a0:"));
}

TEST(FieldSyntax, Addresses) {
  EXPECT_FALSE(check_address("192.168.1.2:7001", true));
  EXPECT_FALSE(check_address("[::1]:7001", true));
  EXPECT_FALSE(check_address("plug1.lab", false));
  EXPECT_TRUE(check_address("plug1.lab", true));
  EXPECT_TRUE(check_address("host:99999", false));
  EXPECT_TRUE(check_address(":80", false));
  EXPECT_TRUE(check_address("a b:80", false));
  EXPECT_TRUE(check_address("", false));
}

TEST(FieldSyntax, FileNamesAndPaths) {
  EXPECT_FALSE(check_file_name("vmlinux"));
  EXPECT_TRUE(check_file_name("boot/vmlinux"));
  EXPECT_TRUE(check_file_name(".."));
  EXPECT_FALSE(check_absolute_path("/srv/tftp/x"));
  EXPECT_TRUE(check_absolute_path("srv/tftp"));
}

TEST(FieldSyntax, Numbers) {
  EXPECT_EQ(parse_seconds("2"), 2.0);
  EXPECT_EQ(parse_seconds("0.5"), 0.5);
  EXPECT_FALSE(parse_seconds("-1"));
  EXPECT_FALSE(parse_seconds("2s"));
  EXPECT_FALSE(parse_seconds("3601"));
  EXPECT_FALSE(parse_seconds("nan"));
  EXPECT_EQ(parse_duration("1.5"), std::chrono::milliseconds(1500));
  EXPECT_EQ(parse_duration("0.0004"), std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_duration("x"));
  EXPECT_EQ(parse_int_in("3", 1, 100), 3);
  EXPECT_FALSE(parse_int_in("0", 1, 100));
  EXPECT_FALSE(parse_int_in("3.5", 1, 100));
}

}  // namespace
}  // namespace crossrig::rig
