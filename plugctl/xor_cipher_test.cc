#include "plugctl/xor_cipher.h"

#include <gtest/gtest.h>

#include "common/hex.h"

namespace crossrig::plugctl {
namespace {

constexpr std::string_view kSysinfo = R"({"system":{"get_sysinfo":{}}})";

TEST(XorCipher, FrameMatchesTheKnownWireBytes) {
  EXPECT_EQ(to_hex(xor_frame(kSysinfo)),
            "0000001dd0f281f88bff9af7d5ef94b6d1b4c09fec95e68fe187e8caf08bf68bf6");
}

TEST(XorCipher, DecryptInvertsEncrypt) {
  std::string all;
  for (int c = 0; c < 256; ++c)
    all.push_back(static_cast<char>(c));
  EXPECT_EQ(xor_decrypt(xor_encrypt(all)), all);
  EXPECT_EQ(xor_decrypt(xor_encrypt("")), "");
}

TEST(XorCipher, LengthPrefixIsBigEndian) {
  std::array<std::uint8_t, 4> p{0x00, 0x10, 0x00, 0x01};
  EXPECT_EQ(xor_frame_length(p), 0x100001u);
}

}  // namespace
}  // namespace crossrig::plugctl
