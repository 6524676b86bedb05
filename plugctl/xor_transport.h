#pragma once

#include "common/host_port.h"
#include "common/unique_fd.h"
#include "plugctl/transport.h"

namespace crossrig::plugctl {

/// The default port of the XOR protocol, TCP and UDP.
inline constexpr std::uint16_t kXorPort = 9999;

/// XOR autokey over TCP with a 4-byte length prefix; keeps the connection for later requests.
class XorTcpTransport : public Transport {
 public:
  explicit XorTcpTransport(HostPort device) : device_(std::move(device)) {}
  std::string send(std::string_view request, const Deadline& deadline) override;
  void reset() override { fd_.reset(); }
  std::string name() const override { return "xor"; }
  std::string target() const override { return format_host_port(device_); }

 private:
  std::string exchange(std::string_view request, const Deadline& deadline);

  HostPort device_;
  UniqueFd fd_;
};

/// XOR autokey in one UDP datagram each way, without length prefix.
class XorUdpTransport : public Transport {
 public:
  explicit XorUdpTransport(HostPort device) : device_(std::move(device)) {}
  std::string send(std::string_view request, const Deadline& deadline) override;
  void reset() override {}
  std::string name() const override { return "udp"; }
  std::string target() const override { return format_host_port(device_); }

 private:
  HostPort device_;
};

}  // namespace crossrig::plugctl
