#include "rig/tftp/tftp_packet.h"

#include <gtest/gtest.h>

namespace crossrig::rig::tftp {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

template <typename T>
T decode_as(const std::vector<std::uint8_t>& b) {
  auto d = decode(b);
  EXPECT_TRUE(std::holds_alternative<Packet>(d))
      << (std::holds_alternative<DecodeError>(d) ? std::get<DecodeError>(d).reason : "");
  return std::get<T>(std::get<Packet>(d));
}

std::string reason(const std::vector<std::uint8_t>& b) {
  auto d = decode(b);
  if (!std::holds_alternative<DecodeError>(d)) return "(decoded)";
  return std::get<DecodeError>(d).reason;
}

TEST(TftpPacket, ReadRequestWithOptionsRoundTrips) {
  Request r{Opcode::kRrq, "boot/vmlinux", "octet", {{"blksize", "1468"}, {"tsize", "0"}}};
  auto got = decode_as<Request>(encode(r));
  EXPECT_EQ(got.filename, "boot/vmlinux");
  EXPECT_EQ(got.mode, "octet");
  EXPECT_EQ(got.options, r.options);
}

TEST(TftpPacket, ModeAndOptionNamesAreCaseInsensitive) {
  auto got =
      decode_as<Request>(bytes(std::string("\0\1f\0NetASCII\0BLKSIZE\0"
                                           "512\0",
                                           25)));
  EXPECT_EQ(got.mode, "netascii");
  ASSERT_EQ(got.options.size(), 1u);
  EXPECT_EQ(got.options[0].first, "blksize");
}

TEST(TftpPacket, AckDataErrorOackRoundTrip) {
  EXPECT_EQ(decode_as<Ack>(encode(Ack{65535})).block, 65535);
  std::vector<std::uint8_t> payload = {1, 2, 3};
  auto encoded = encode(Data{7, payload});
  auto d = decode_as<Data>(encoded);
  EXPECT_EQ(d.block, 7);
  EXPECT_EQ(std::vector<std::uint8_t>(d.data.begin(), d.data.end()), payload);
  auto e = decode_as<Error>(encode(Error{ErrorCode::kFileNotFound, "nope"}));
  EXPECT_EQ(e.code, ErrorCode::kFileNotFound);
  EXPECT_EQ(e.message, "nope");
  auto o = decode_as<Oack>(encode(Oack{{{"windowsize", "16"}}}));
  EXPECT_EQ(o.options, (std::vector<Option>{{"windowsize", "16"}}));
}

TEST(TftpPacket, RejectsTruncatedAndMalformed) {
  EXPECT_EQ(reason({}), "packet shorter than 4 bytes");
  EXPECT_EQ(reason({0, 4, 0}), "packet shorter than 4 bytes");
  EXPECT_EQ(reason({0, 4, 0, 1, 0}), "ACK is not 4 bytes long");
  EXPECT_EQ(reason({0, 9, 0, 0}), "unknown opcode 9");
  EXPECT_EQ(reason(bytes(std::string("\0\1file", 6))), "file name is not NUL-terminated");
  EXPECT_EQ(reason(bytes(std::string("\0\1file\0octet", 12))), "mode is not NUL-terminated");
  EXPECT_EQ(reason(bytes(std::string("\0\1\0octet\0", 9))), "empty file name");
  EXPECT_EQ(reason(bytes(std::string("\0\1f\0binary\0", 11))), "unknown transfer mode 'binary'");
  EXPECT_EQ(reason(bytes(std::string("\0\1f\0octet\0blksize\0", 18))),
            "option value is not NUL-terminated");
  EXPECT_EQ(reason(bytes(std::string("\0\1f\0octet\0a\0\1\0a\0\2\0", 18))), "option a given twice");
  EXPECT_EQ(reason(bytes(std::string("\0\5\0\1oops", 8))), "error message is not NUL-terminated");
}

TEST(TftpPacket, EnforcesLimits) {
  Request r{Opcode::kRrq, std::string(256, 'a'), "octet", {}};
  EXPECT_EQ(reason(encode(r)), "file name is longer than 255 bytes");
  r.filename = "f";
  for (int i = 0; i < 17; ++i)
    r.options.emplace_back("o" + std::to_string(i), "1");
  EXPECT_EQ(reason(encode(r)), "more than 16 options");
  r.options = {{std::string(65, 'x'), "1"}};
  EXPECT_EQ(reason(encode(r)), "option name is longer than 64 bytes");
  std::vector<std::uint8_t> huge(2000, 'a');
  huge[0] = 0;
  huge[1] = 1;
  EXPECT_EQ(reason(huge), "request longer than 1024 bytes");
  std::vector<std::uint8_t> jumbo(kMaxPacket + 1, 0);
  jumbo[1] = 3;
  EXPECT_EQ(reason(jumbo), "packet longer than 65468 bytes");
}

TEST(TftpPacket, ErrorMessageIsCutAtLimitAndNul) {
  auto e = encode(Error{ErrorCode::kNotDefined, std::string(600, 'x')});
  EXPECT_EQ(e.size(), 4 + kMaxErrorMessage + 1);
  auto f = encode(Error{ErrorCode::kNotDefined, std::string("ab\0cd", 5)});
  EXPECT_EQ(decode_as<Error>(f).message, "ab");
}

}  // namespace
}  // namespace crossrig::rig::tftp
