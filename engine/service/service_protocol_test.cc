#include "engine/service/service_protocol.h"

#include <gtest/gtest.h>

namespace crossrig::engine::service {
namespace {

using nlohmann::json;

std::vector<std::uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

int kind_of(const std::string& body) {
  try {
    parse_request(bytes(body));
  } catch (const CkptError& e) {
    return e.kind();
  }
  return -1;
}

TEST(ServiceFrame, IsABigEndianLengthAndTheJson) {
  const auto f = frame(json{{"op", "check"}});
  const std::string body = R"({"op":"check"})";
  ASSERT_EQ(f.size(), 4 + body.size());
  EXPECT_EQ(f[0], 0);
  EXPECT_EQ(f[3], body.size());
  EXPECT_EQ(std::string(f.begin() + 4, f.end()), body);
  EXPECT_EQ(frame_length(std::span<const std::uint8_t, 4>(f.data(), 4)), body.size());
}

TEST(ServiceFrame, EmptyAndOversizedFramesAreRefused) {
  const std::uint8_t empty[4] = {0, 0, 0, 0}, big[4] = {0, 1, 0, 1},
                     huge[4] = {0xff, 0xff, 0xff, 0xff};
  EXPECT_THROW(frame_length(empty), CkptError);
  EXPECT_THROW(frame_length(big), CkptError);
  EXPECT_THROW(frame_length(huge), CkptError);
  const std::uint8_t max[4] = {0, 1, 0, 0};
  EXPECT_EQ(frame_length(max), kMaxFrame);
}

TEST(ServiceRequest, ADumpOfItselfRoundTrips) {
  Request r = parse_request(
      bytes(R"({"op":"dump","pid":42,"images_dir":"/x/1","leave_running":true,"self_fd":5})"));
  EXPECT_EQ(r.op, "dump");
  EXPECT_EQ(r.pid, 42);
  EXPECT_EQ(r.images_dir, "/x/1");
  EXPECT_TRUE(r.leave_running);
  EXPECT_FALSE(r.shell_job);
  EXPECT_EQ(r.self_fd, 5);
  EXPECT_EQ(to_json(parse_request(bytes(to_json(r).dump()))), to_json(r));
}

TEST(ServiceRequest, WhatIsNotARequestIsAUsageErrorNamingTheField) {
  for (const char* bad :
       {"", "not json", "[1,2]", R"({"op":"shred"})", R"({"op":"dump"})",
        R"({"op":"dump","pid":-1,"images_dir":"/x"})",
        R"({"op":"dump","pid":"42","images_dir":"/x"})", R"({"op":"dump","pid":42})",
        R"({"op":"restore"})", R"({"op":"dump","pid":42,"images_dir":"/x","leave_running":"yes"})",
        R"({"op":"pre-dump","pid":42,"images_dir":"/x","self_fd":3})",
        R"({"op":"dump","pid":42,"images_dir":"/x","self_fd":-3})"}) {
    EXPECT_EQ(kind_of(bad), CkptError::kUsage) << bad;
  }
  try {
    parse_request(bytes(R"({"op":"dump","pid":42,"images_dir":7})"));
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("images_dir"), std::string::npos) << e.what();
  }
  EXPECT_EQ(kind_of(R"({"op":"check"})"), -1);
}

TEST(ServiceReply, ErrorsCarryCkptsCodeAndKind) {
  const json r = error_reply(CkptError::kDenied, "not yours");
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["code"], 6);
  EXPECT_EQ(r["kind"], "denied");
  EXPECT_EQ(r["error"], "not yours");
  EXPECT_EQ(restored_reply()["status"], "restored");
}

}  // namespace
}  // namespace crossrig::engine::service
