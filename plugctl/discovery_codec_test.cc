#include "plugctl/discovery_codec.h"

#include <gtest/gtest.h>

#include "common/hex.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {
namespace {

TEST(DiscoveryCodec, KlapProbeIsPythonKasasFixedQuery) {
  EXPECT_EQ(to_hex(encode_klap_discovery_query()), "020000010000000000000000463cb5d3");
  EXPECT_TRUE(is_klap_discovery_query(encode_klap_discovery_query()));
}

TEST(DiscoveryCodec, Crc32MatchesZlib) {
  EXPECT_EQ(crc32_ieee(as_bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32_ieee({}), 0u);
}

TEST(DiscoveryCodec, RejectsCorruptedOrShortProbes) {
  auto q = encode_klap_discovery_query();
  for (std::size_t i = 0; i < q.size(); ++i) {
    auto bad = q;
    bad[i] ^= 0x01;
    EXPECT_FALSE(is_klap_discovery_query(bad)) << "byte " << i;
  }
  EXPECT_FALSE(is_klap_discovery_query(std::span(q).first(15)));
  q.push_back(0);
  EXPECT_FALSE(is_klap_discovery_query(q));
}

TEST(DiscoveryCodec, XorQueryIsEncryptedSysinfo) {
  EXPECT_EQ(xor_decrypt(encode_xor_discovery_query()), R"({"system":{"get_sysinfo":{}}})");
}

TEST(DiscoveryCodec, ReplyRoundTrips) {
  nlohmann::json result = {
      {"device_id", "abc"},
      {"device_model", "KP115(EU)"},
      {"device_type", "IOT.SMARTPLUGSWITCH"},
      {"ip", "10.0.0.7"},
      {"mac", "50-C7-BF-00-00-01"},
      {"mgt_encrypt_schm", {{"encrypt_type", "KLAP"}, {"http_port", 80}, {"lv", 2}}}};
  auto datagram = encode_klap_discovery_reply(result);
  ASSERT_GT(datagram.size(), kTdpHeaderSize);
  EXPECT_EQ(datagram[0], 2);
  EXPECT_TRUE(is_klap_discovery_query(datagram)) << "a reply carries a valid header and CRC";
  auto decoded = decode_klap_discovery_reply(datagram);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, result);
}

TEST(DiscoveryCodec, RejectsRepliesOfTheWrongShape) {
  EXPECT_FALSE(decode_klap_discovery_reply(encode_klap_discovery_query()));
  auto reply = encode_klap_discovery_reply({{"ip", "1.2.3.4"}});
  auto bad_version = reply;
  bad_version[0] = 1;
  EXPECT_FALSE(decode_klap_discovery_reply(bad_version));
  auto truncated = std::span(reply).first(reply.size() - 1);
  EXPECT_FALSE(decode_klap_discovery_reply(truncated));

  auto with = [](std::string_view json) {
    std::vector<std::uint8_t> d(kTdpHeaderSize, 0);
    d[0] = 2;
    auto b = as_bytes(json);
    d.insert(d.end(), b.begin(), b.end());
    return d;
  };
  EXPECT_FALSE(decode_klap_discovery_reply(with("[1,2]")));
  EXPECT_FALSE(decode_klap_discovery_reply(with(R"({"result":5})")));
  EXPECT_FALSE(decode_klap_discovery_reply(with(R"({"result":{},"error_code":-1})")));
  EXPECT_TRUE(decode_klap_discovery_reply(with(R"({"result":{"ip":"x"}})")));
}

}  // namespace
}  // namespace crossrig::plugctl
