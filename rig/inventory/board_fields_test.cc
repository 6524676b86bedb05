#include "rig/inventory/board_fields.h"

#include <gtest/gtest.h>

namespace crossrig::rig {
namespace {

Board sample() {
  Board b;
  b.name = "z1";
  b.arch = Arch::kS390x;
  b.boot = BootMethod::kS390Netboot;
  b.mac = "02:00:00:00:53:90";
  b.power.driver = "command";
  b.power.settings = {{"address", "pdu1"}, {"outlet", "7"}, {"on", "x"}};
  return b;
}

TEST(BoardFields, HoldsWhatTheBoardHas) {
  auto fields = board_fields(sample());
  EXPECT_EQ(fields.at("name"), "z1");
  EXPECT_EQ(fields.at("arch"), "s390x");
  EXPECT_EQ(fields.at("boot"), "s390-netboot");
  EXPECT_EQ(fields.at("address"), "pdu1");
  EXPECT_EQ(fields.at("outlet"), "7");
  EXPECT_EQ(fields.count("console"), 0u);
  EXPECT_EQ(fields.count("on"), 0u);
}

TEST(BoardFields, ExpandsQuotedValues) {
  auto out = expand_command("pdu --host {address} -o {outlet} on # {name}", board_fields(sample()));
  ASSERT_EQ(out.index(), 0u) << std::get<1>(out);
  EXPECT_EQ(std::get<0>(out), "pdu --host 'pdu1' -o '7' on # 'z1'");
}

TEST(BoardFields, ValuesNeverBecomeCode) {
  std::map<std::string, std::string> fields{{"name", "a'; rm -rf / #"}};
  auto out = expand_command("echo {name}", fields);
  ASSERT_EQ(out.index(), 0u);
  EXPECT_EQ(std::get<0>(out), "echo 'a'\\''; rm -rf / #'");
}

TEST(BoardFields, BracesAndErrors) {
  auto fields = board_fields(sample());
  EXPECT_EQ(std::get<0>(expand_command("awk '{{print}}'", fields)), "awk '{print}'");
  auto unknown = expand_command("x {console}", fields);
  ASSERT_EQ(unknown.index(), 1u);
  EXPECT_NE(std::get<1>(unknown).find("'{console}' names no field"), std::string::npos);
  EXPECT_EQ(expand_command("x {name", fields).index(), 1u);
  EXPECT_EQ(expand_command("x }", fields).index(), 1u);
}

}  // namespace
}  // namespace crossrig::rig
