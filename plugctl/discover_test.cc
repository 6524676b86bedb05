#include "plugctl/discover.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "common/unique_fd.h"
#include "plugctl/discovery_codec.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {
namespace {

using nlohmann::json;

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

// A UDP responder on 127.0.0.1 that answers each datagram with answer(datagram).
class UdpResponder {
 public:
  explicit UdpResponder(std::function<std::vector<std::uint8_t>(std::span<const std::uint8_t>)> a)
      : answer_(std::move(a)) {
    fd_.reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len);
    getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      std::vector<std::uint8_t> buf(65536);
      while (!stop_) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        sockaddr_in from{};
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(fd_.get(), buf.data(), buf.size(), 0,
                             reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) continue;
        ++received_;
        auto reply = answer_(std::span(buf).first(static_cast<std::size_t>(n)));
        if (!reply.empty()) {
          sendto(fd_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
                 from_len);
        }
      }
    });
  }
  ~UdpResponder() {
    stop_ = true;
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int received() const { return received_; }

 private:
  std::function<std::vector<std::uint8_t>(std::span<const std::uint8_t>)> answer_;
  UniqueFd fd_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> received_{0};
  std::thread thread_;
};

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
