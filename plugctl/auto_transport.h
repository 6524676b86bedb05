#pragma once

#include <memory>
#include <string>

#include "common/host_port.h"
#include "plugctl/credentials.h"
#include "plugctl/transport.h"

namespace crossrig::plugctl {

/// How to reach a device, as --transport says.
enum class TransportKind { kAuto, kXor, kUdp, kKlap };

/// Parses "auto", "xor", "udp" or "klap"; throws PlugError (kUsage) otherwise.
TransportKind parse_transport_kind(std::string_view text);

/// The transport for a device given as "host[:port]": the port is the XOR port, or for KLAP the
/// HTTP port; without one, 9999 for XOR and 80 for KLAP. Auto with port 80 means KLAP.
std::unique_ptr<Transport> make_transport(TransportKind kind, std::string_view host,
                                          Credentials credentials);

/// Tries XOR over TCP first and switches to KLAP for good when nothing listens on the XOR port,
/// the peer answers in HTTP, or it closes without answering (and KLAP then works). When the
/// user gave one port for both, an HTTP server may sit silent on our XOR bytes, so XOR then
/// gets at most a second (half the budget if less) before KLAP is tried. XOR comes first
/// because it needs one round trip and no crypto, so lab loops over XOR plugs pay nothing; a KLAP
/// device refuses the XOR port at once, so it pays one refused connect (well under a millisecond on
/// a LAN).
class AutoTransport : public Transport {
 public:
  /// shared_port: the user gave one port, which may be either protocol's.
  AutoTransport(HostPort xor_device, HostPort klap_device, Credentials credentials,
                bool shared_port);
  std::string send(std::string_view request, const Deadline& deadline) override;
  void reset() override { current_->reset(); }
  std::string name() const override { return current_->name(); }
  std::string target() const override { return current_->target(); }

 private:
  std::unique_ptr<Transport> current_;
  HostPort klap_device_;
  Credentials credentials_;
  bool shared_port_;
  bool decided_ = false;
};

}  // namespace crossrig::plugctl
