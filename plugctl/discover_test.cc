#include "plugctl/discover.h"

#include <gtest/gtest.h>

#include <fstream>

#include "plugctl/discovery_codec.h"
#include "plugctl/loopback_peer.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {
namespace {

using nlohmann::json;
using testing::UdpResponder;

json fixture(const std::string& name) {
  std::ifstream in(CROSSRIG_SOURCE_DIR "/plugctl/fixtures/" + name);
  return json::parse(in);
}

std::vector<std::uint8_t> xor_answer(const json& f) {
  return xor_encrypt(json({{"system", f["system"]}}).dump());
}

TEST(Discover, NormalizesMacs) {
  EXPECT_EQ(normalize_mac("cc-32-e5-10-20-35"), "CC:32:E5:10:20:35");
  EXPECT_EQ(normalize_mac("CC:32:E5:10:20:35"), "CC:32:E5:10:20:35");
}

TEST(Discover, ParsesXorAndKlapAnswers) {
  json kp115 = fixture("KP115(US)_1.0_1.0.17.json");
  auto x = parse_discovery_answer(xor_answer(kp115), "10.0.0.5");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->transport, "xor");
  EXPECT_EQ(x->model, "KP115(US)");
  EXPECT_EQ(x->alias, "Bench plug");
  EXPECT_EQ(x->on, true);
  EXPECT_EQ(x->port, 9999);

  json hs100 = fixture("HS100(UK)_4.1_1.1.0.json");
  auto k =
      parse_discovery_answer(encode_klap_discovery_reply(hs100["discovery_result"]), "10.0.0.6");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->transport, "klap");
  EXPECT_EQ(k->model, "HS100(UK)");
  EXPECT_EQ(k->mac, "CC:32:E5:10:20:35");
  EXPECT_EQ(k->port, 80);
  EXPECT_FALSE(k->on);

  EXPECT_FALSE(parse_discovery_answer(xor_encrypt("{\"system\":{}}"), "x"));
  EXPECT_FALSE(parse_discovery_answer(encode_klap_discovery_query(), "x"));
  EXPECT_FALSE(parse_discovery_answer({}, "x"));
}

TEST(Discover, KeepsOneEntryPerMac) {
  std::vector<DiscoveredDevice> devices;
  DiscoveredDevice a{"10.0.0.5", "AA:BB:CC:00:00:01", "HS100", "", "xor", 9999, {}, {}};
  add_unique(devices, a);
  add_unique(devices, a);
  DiscoveredDevice b = a;
  b.ip = "10.0.0.9";
  add_unique(devices, b);
  b.mac = "AA:BB:CC:00:00:02";
  add_unique(devices, b);
  EXPECT_EQ(devices.size(), 2u);
}

TEST(Discover, CollectsBothKindsOfDeviceOverUdp) {
  json kp115 = fixture("KP115(US)_1.0_1.0.17.json");
  json hs100 = fixture("HS100(UK)_4.1_1.1.0.json");
  UdpResponder xor_device([&](std::span<const std::uint8_t> d) {
    return xor_decrypt(d) == R"({"system":{"get_sysinfo":{}}})" ? xor_answer(kp115)
                                                                : std::vector<std::uint8_t>{};
  });
  UdpResponder klap_device([&](std::span<const std::uint8_t> d) {
    return is_klap_discovery_query(d) ? encode_klap_discovery_reply(hs100["discovery_result"])
                                      : std::vector<std::uint8_t>{};
  });
  auto devices = discover("127.0.0.1", std::chrono::milliseconds(1000),
                          {xor_device.port(), klap_device.port()});
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_GE(xor_device.received(), 2) << "probes are repeated against datagram loss";
  std::sort(devices.begin(), devices.end(),
            [](const auto& a, const auto& b) { return a.transport > b.transport; });
  EXPECT_EQ(devices[0].transport, "xor");
  EXPECT_EQ(devices[0].mac, "1C:3B:F3:10:20:33");
  EXPECT_EQ(devices[0].ip, "127.0.0.1");
  EXPECT_EQ(devices[1].transport, "klap");
}

TEST(Discover, RefusesANonAddressTarget) {
  EXPECT_ANY_THROW(discover("not-an-address", std::chrono::milliseconds(10)));
}

}  // namespace
}  // namespace crossrig::plugctl
