#include "rig/tftp/tftp_map.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace crossrig::rig::tftp {
namespace {

ClientAddress ip(std::string_view text) {
  return *ClientAddress::parse(text);
}

const char* const kRules =
    "# boards\n"
    "10.0.0.5      ^(.*)$           boards/cell/$1\n"
    "10.1.0.0/16   ^pxelinux\\.cfg/  pxe/{client}/   # per client\n"
    "fd00::/64     ^                v6/\n"
    "*             ^private/        -\n";

TEST(TftpMap, FirstMatchingRuleRewrites) {
  auto rules = MapRules::parse(kRules, "map");
  EXPECT_EQ(rules.apply(ip("10.0.0.5"), "vmlinux").name, "boards/cell/vmlinux");
  EXPECT_EQ(rules.apply(ip("10.0.0.5"), "private/x").name, "boards/cell/private/x");
  auto pxe = rules.apply(ip("10.1.2.3"), "pxelinux.cfg/default");
  EXPECT_EQ(pxe.name, "pxe/10.1.2.3/default");
  EXPECT_EQ(pxe.rule_line, 3);
  EXPECT_EQ(rules.apply(ip("fd00::7"), "k").name, "v6/k");
  auto other = rules.apply(ip("10.2.0.1"), "pxelinux.cfg/default");
  EXPECT_EQ(other.name, "pxelinux.cfg/default");
  EXPECT_EQ(other.rule_line, 0);
}

TEST(TftpMap, DashRefuses) {
  auto rules = MapRules::parse(kRules, "map");
  auto r = rules.apply(ip("192.168.1.1"), "private/key");
  EXPECT_TRUE(r.refused);
  EXPECT_EQ(r.rule_line, 5);
}

TEST(TftpMap, MappedIpv6ClientsMatchIpv4Rules) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.0.0.5", &in6.sin6_addr);
  auto client = ClientAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&in6));
  EXPECT_EQ(client.to_string(), "10.0.0.5");
  EXPECT_EQ(MapRules::parse(kRules, "map").apply(client, "k").name, "boards/cell/k");
}

void expect_invalid(const std::string& text, const std::string& message) {
  try {
    MapRules::parse(text, "m");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).substr(0, message.size()), message);
  }
}

TEST(TftpMap, InvalidRulesNameTheLine) {
  expect_invalid("\n* a\n", "m:2: expected 'CLIENT PATTERN REPLACEMENT', got 2 fields");
  expect_invalid("host a b\n", "m:1: 'host' is not '*', an IPv4 or an IPv6 address");
  expect_invalid("10.0.0.0/33 a b\n", "m:1: prefix length '33' is not a number from 0 to 32");
  expect_invalid("* ( b\n", "m:1: pattern '(' is not a valid regular expression");
}

}  // namespace
}  // namespace crossrig::rig::tftp
