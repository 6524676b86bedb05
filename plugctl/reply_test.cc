#include "plugctl/reply.h"

#include <gtest/gtest.h>

#include "common/hex.h"
#include "plugctl/errors.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {
namespace {

using nlohmann::json;

// Runs f, which must throw PlugError of kind; returns its message.
template <class F>
std::string error_of(F f, PlugError::Kind kind) {
  try {
    f();
  } catch (const PlugError& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no PlugError";
  return "";
}

TEST(Reply, DecodesTheKnownSysinfoFrame) {
  auto frame = from_hex("0000001dd0f281f88bff9af7d5ef94b6d1b4c09fec95e68fe187e8caf08bf68bf6");
  ASSERT_TRUE(frame);
  EXPECT_EQ(decode_xor_tcp_reply(*frame, "dev"), R"({"system":{"get_sysinfo":{}}})");
}

TEST(Reply, RefusesBadFrames) {
  auto frame = xor_frame(R"({"a":1})");
  EXPECT_NE(error_of([&] { decode_xor_tcp_reply(std::span(frame).first(3), "dev"); },
                     PlugError::kBadReply)
                .find("truncated"),
            std::string::npos);
  EXPECT_NE(error_of([&] { decode_xor_tcp_reply(std::span(frame).first(8), "dev"); },
                     PlugError::kBadReply)
                .find("got 4 of 7 bytes"),
            std::string::npos);
  auto longer = frame;
  longer.push_back(0);
  EXPECT_NE(error_of([&] { decode_xor_tcp_reply(longer, "dev"); }, PlugError::kBadReply)
                .find("past its length"),
            std::string::npos);
  std::vector<std::uint8_t> huge{0x00, 0x10, 0x00, 0x01};
  EXPECT_NE(
      error_of([&] { decode_xor_tcp_reply(huge, "dev"); }, PlugError::kBadReply).find("1 MiB"),
      std::string::npos);
  std::vector<std::uint8_t> limit{0x00, 0x10, 0x00, 0x00};
  EXPECT_NE(
      error_of([&] { decode_xor_tcp_reply(limit, "dev"); }, PlugError::kBadReply).find("truncated"),
      std::string::npos)
      << "exactly 1 MiB is allowed";
}

TEST(Reply, RecognisesAnHttpAnswer) {
  std::string http = "HTTP/1.1 400 Bad Request\r\n\r\n";
  try {
    decode_xor_tcp_reply(as_bytes(http), "dev");
    ADD_FAILURE();
  } catch (const PlugError& e) {
    EXPECT_EQ(e.cause(), PlugError::Cause::kWrongProtocol);
    EXPECT_NE(std::string(e.what()).find("--transport klap"), std::string::npos);
  }
}

TEST(Reply, ParsesOnlyJsonObjects) {
  EXPECT_EQ(parse_json_reply(R"({"a":1})", "dev"), json({{"a", 1}}));
  EXPECT_NE(
      error_of([] { parse_json_reply("{\"a\":", "dev"); }, PlugError::kBadReply).find("not JSON"),
      std::string::npos);
  error_of([] { parse_json_reply("[1]", "dev"); }, PlugError::kBadReply);
  error_of([] { parse_json_reply("", "dev"); }, PlugError::kBadReply);
}

TEST(Reply, ChecksErrCodesAtModuleAndMethodLevel) {
  json request = {{"context", {{"child_ids", {"x"}}}},
                  {"system", {{"get_sysinfo", json::object()}}}};
  check_reply(request, {{"system", {{"get_sysinfo", {{"err_code", 0}}}}}}, "dev");

  std::string msg = error_of(
      [&] {
        check_reply(request, {{"system", {{"err_code", -1}, {"err_msg", "module not support"}}}},
                    "dev");
      },
      PlugError::kDevice);
  EXPECT_NE(msg.find("module not support"), std::string::npos) << msg;
  EXPECT_NE(msg.find("-1"), std::string::npos) << msg;

  msg = error_of(
      [&] {
        check_reply(
            request,
            {{"system", {{"get_sysinfo", {{"err_code", -2}, {"err_msg", "member not support"}}}}}},
            "dev");
      },
      PlugError::kDevice);
  EXPECT_NE(msg.find("system.get_sysinfo"), std::string::npos) << msg;
}

TEST(Reply, ChecksTheShape) {
  json request = {{"system", {{"get_sysinfo", json::object()}}}};
  error_of([&] { check_reply(request, json::object(), "dev"); }, PlugError::kBadReply);
  error_of([&] { check_reply(request, {{"system", 5}}, "dev"); }, PlugError::kBadReply);
  error_of(
      [&] {
        check_reply(request, {{"system", json::object()}}, "dev");
      },
      PlugError::kBadReply);
  error_of(
      [&] {
        check_reply(request, {{"system", {{"get_sysinfo", {{"err_code", "x"}}}}}}, "dev");
      },
      PlugError::kBadReply);
}

}  // namespace
}  // namespace crossrig::plugctl
