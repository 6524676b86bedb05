#include "plugctl/auto_transport.h"

#include <algorithm>
#include <optional>

#include "plugctl/errors.h"
#include "plugctl/klap_transport.h"
#include "plugctl/xor_transport.h"

namespace crossrig::plugctl {

TransportKind parse_transport_kind(std::string_view text) {
  if (text == "auto") return TransportKind::kAuto;
  if (text == "xor") return TransportKind::kXor;
  if (text == "udp") return TransportKind::kUdp;
  if (text == "klap") return TransportKind::kKlap;
  throw PlugError(PlugError::kUsage,
                  "unknown --transport '" + std::string(text) + "'; use auto, xor, udp or klap");
}

std::unique_ptr<Transport> make_transport(TransportKind kind, std::string_view host,
                                          Credentials credentials) {
  HostPort xor_device, klap_device;
  bool shared_port = false;
  try {
    shared_port = parse_host_port(host, 0).port != 0;
    xor_device = parse_host_port(host, kXorPort);
    klap_device = parse_host_port(host, kKlapPort);
  } catch (const std::invalid_argument& e) {
    throw PlugError(PlugError::kUsage, std::string("-H: ") + e.what());
  }
  switch (kind) {
    case TransportKind::kXor:
      return std::make_unique<XorTcpTransport>(xor_device);
    case TransportKind::kUdp:
      return std::make_unique<XorUdpTransport>(xor_device);
    case TransportKind::kKlap:
      return std::make_unique<KlapTransport>(klap_device, std::move(credentials));
    case TransportKind::kAuto:
      // Port 80 is where KLAP devices serve HTTP; no XOR device listens there.
      if (shared_port && klap_device.port == kKlapPort) {
        return std::make_unique<KlapTransport>(klap_device, std::move(credentials));
      }
      break;
  }
  return std::make_unique<AutoTransport>(xor_device, klap_device, std::move(credentials),
                                         shared_port);
}

namespace {
constexpr int kSharedPortXorWindowMs = 1000;
}

AutoTransport::AutoTransport(HostPort xor_device, HostPort klap_device, Credentials credentials,
                             bool shared_port)
    : current_(std::make_unique<XorTcpTransport>(std::move(xor_device))),
      klap_device_(std::move(klap_device)),
      credentials_(std::move(credentials)),
      shared_port_(shared_port) {}

std::string AutoTransport::send(std::string_view request, const Deadline& deadline) {
  if (decided_) return current_->send(request, deadline);
  std::optional<PlugError> xor_error;
  int window = deadline.remaining_ms();
  if (shared_port_) window = std::min(window / 2, kSharedPortXorWindowMs);
  try {
    std::string reply = current_->send(request, Deadline(std::chrono::milliseconds(window)));
    decided_ = true;
    return reply;
  } catch (const PlugError& e) {
    // A peer that closes without a word may be an HTTP server dropping our XOR bytes.
    using Cause = PlugError::Cause;
    bool silent =
        e.cause() == Cause::kClosedEarly || (shared_port_ && e.cause() == Cause::kTimeout);
    if (silent && !deadline.expired()) {
      xor_error = e;
    } else if (e.cause() != Cause::kRefused && e.cause() != Cause::kWrongProtocol) {
      throw;
    }
  }
  auto klap = std::make_unique<KlapTransport>(klap_device_, credentials_);
  try {
    std::string reply = klap->send(request, deadline);
    current_ = std::move(klap);
    decided_ = true;
    return reply;
  } catch (const PlugError& e) {
    // When XOR only saw a closed connection and KLAP does not work either, the XOR failure
    // is the one that describes the device; an auth failure proves it speaks KLAP.
    if (xor_error && e.kind() != PlugError::kAuth) throw *xor_error;
    current_ = std::move(klap);
    decided_ = true;
    throw;
  }
}

}  // namespace crossrig::plugctl
