#include "plugctl/xor_transport.h"

#include <gtest/gtest.h>

#include "plugctl/errors.h"
#include "plugctl/loopback_peer.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {
namespace {

using testing::LoopbackPeer;
using testing::UdpResponder;

constexpr std::string_view kSysinfo = R"({"system":{"get_sysinfo":{}}})";
constexpr std::string_view kAnswer = R"({"system":{"get_sysinfo":{"relay_state":1}}})";

HostPort loopback(std::uint16_t port) {
  return {"127.0.0.1", port};
}
Deadline soon() {
  return Deadline(std::chrono::seconds(5));
}

TEST(XorTcpTransport, KeepsTheConnectionForLaterRequests) {
  LoopbackPeer peer([](int fd, const LoopbackPeer& p) {
    while (auto request = p.read_xor_request(fd)) {
      LoopbackPeer::write_all(fd, testing::xor_reply_frame(kAnswer));
    }
  });
  XorTcpTransport t(loopback(peer.port()));
  EXPECT_EQ(t.send(kSysinfo, soon()), kAnswer);
  EXPECT_EQ(t.send(kSysinfo, soon()), kAnswer);
  EXPECT_EQ(peer.connections(), 1);
}

TEST(XorTcpTransport, ReconnectsWhenTheDeviceClosedAKeptConnection) {
  LoopbackPeer peer([](int fd, const LoopbackPeer& p) {
    if (p.read_xor_request(fd)) LoopbackPeer::write_all(fd, testing::xor_reply_frame(kAnswer));
  });
  XorTcpTransport t(loopback(peer.port()));
  EXPECT_EQ(t.send(kSysinfo, soon()), kAnswer);
  EXPECT_EQ(t.send(kSysinfo, soon()), kAnswer);
  EXPECT_EQ(peer.connections(), 2);
}

TEST(XorTcpTransport, ReadsRepliesSplitIntoSingleBytes) {
  LoopbackPeer peer([](int fd, const LoopbackPeer& p) {
    if (!p.read_xor_request(fd)) return;
    for (char c : testing::xor_reply_frame(kAnswer))
      LoopbackPeer::write_all(fd, {&c, 1});
  });
  XorTcpTransport t(loopback(peer.port()));
  EXPECT_EQ(t.send(kSysinfo, soon()), kAnswer);
}

TEST(XorUdpTransport, OneDatagramEachWay) {
  UdpResponder device([](std::span<const std::uint8_t> d) {
    return xor_decrypt(d) == kSysinfo ? xor_encrypt(kAnswer) : std::vector<std::uint8_t>{};
  });
  XorUdpTransport t(loopback(device.port()));
  EXPECT_EQ(t.send(kSysinfo, soon()), kAnswer);
}

TEST(XorUdpTransport, SilentDeviceTimesOut) {
  UdpResponder device([](std::span<const std::uint8_t>) { return std::vector<std::uint8_t>{}; });
  XorUdpTransport t(loopback(device.port()));
  try {
    t.send(kSysinfo, Deadline(std::chrono::milliseconds(200)));
    ADD_FAILURE() << "no error";
  } catch (const PlugError& e) {
    EXPECT_EQ(e.kind(), PlugError::kUnreachable);
    EXPECT_TRUE(e.retryable());
  }
}

}  // namespace
}  // namespace crossrig::plugctl
