#include "rig/console/mux_protocol.h"

#include <gtest/gtest.h>

namespace crossrig::rig::console {
namespace {

TEST(MuxProtocol, HelloRoundTripsWithInputAfterIt) {
  std::string bytes = format_hello({4096, true}) + "root\r";
  HelloParse p = parse_hello(bytes);
  ASSERT_EQ(p.status, HelloParse::kOk) << p.error;
  EXPECT_EQ(p.hello.backlog, 4096u);
  EXPECT_TRUE(p.hello.read_only);
  EXPECT_EQ(bytes.substr(p.consumed), "root\r");
}

TEST(MuxProtocol, PartialHelloNeedsMore) {
  EXPECT_EQ(parse_hello("rig-console/1 back").status, HelloParse::kNeedMore);
}

TEST(MuxProtocol, BadHellosSayWhatIsWrong) {
  auto bad = [](std::string_view in) {
    HelloParse p = parse_hello(in);
    EXPECT_EQ(p.status, HelloParse::kBad) << in;
    return p.error;
  };
  EXPECT_NE(bad("root\n").find("rig-console/1"), std::string::npos);
  EXPECT_NE(bad("rig-console/1 backlog=-1\n").find("backlog"), std::string::npos);
  EXPECT_NE(bad("rig-console/1 backlog=1 color\n").find("color"), std::string::npos);
  EXPECT_NE(bad("rig-console/1\n").find("backlog"), std::string::npos);
  EXPECT_NE(bad("rig-console/1 backlog=99999999999999999999999\n").find("backlog"),
            std::string::npos);
  EXPECT_NE(bad(std::string(kMaxHello, 'x')).find("longer"), std::string::npos);
}

TEST(MuxProtocol, NoticeIsALineOfItsOwn) {
  EXPECT_EQ(notice("b1", "dropped"), "\r\n[rig console b1: dropped]\r\n");
}

}  // namespace
}  // namespace crossrig::rig::console
