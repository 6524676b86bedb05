#include "common/host_port.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace crossrig {
namespace {

TEST(HostPort, ParsesEveryForm) {
  auto a = parse_host_port("plug1", 9999);
  EXPECT_EQ(a.host, "plug1");
  EXPECT_EQ(a.port, 9999);
  auto b = parse_host_port("10.0.0.5:80", 9999);
  EXPECT_EQ(b.host, "10.0.0.5");
  EXPECT_EQ(b.port, 80);
  auto c = parse_host_port("[::1]:8080", 9999);
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 8080);
  auto d = parse_host_port("fe80::1", 9999);
  EXPECT_EQ(d.host, "fe80::1");
  EXPECT_EQ(d.port, 9999);
  EXPECT_EQ(format_host_port(c), "[::1]:8080");
  EXPECT_EQ(format_host_port(b), "10.0.0.5:80");
}

TEST(HostPort, RejectsBadPortsWithTheText) {
  EXPECT_THROW(parse_host_port("h:0", 1), std::invalid_argument);
  EXPECT_THROW(parse_host_port("h:65536", 1), std::invalid_argument);
  EXPECT_THROW(parse_host_port("h:x", 1), std::invalid_argument);
  EXPECT_THROW(parse_host_port("[::1", 1), std::invalid_argument);
  EXPECT_THROW(parse_host_port(":80", 1), std::invalid_argument);
  try {
    parse_host_port("plug:99999", 1);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("plug:99999"), std::string::npos);
  }
}

TEST(HostPort, ResolvesLoopbackNumerically) {
  auto v4 = resolve({"127.0.0.1", 9}, SOCK_STREAM);
  ASSERT_FALSE(v4.empty());
  EXPECT_EQ(v4[0].to_string(), "127.0.0.1:9");
}

}  // namespace
}  // namespace crossrig
