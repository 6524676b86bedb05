#include "plugctl/auto_transport.h"

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
  try {
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
      break;
  }
  return std::make_unique<AutoTransport>(xor_device, klap_device, std::move(credentials));
}

AutoTransport::AutoTransport(HostPort xor_device, HostPort klap_device, Credentials credentials)
    : current_(std::make_unique<XorTcpTransport>(std::move(xor_device))),
      klap_device_(std::move(klap_device)),
      credentials_(std::move(credentials)) {}

std::string AutoTransport::send(std::string_view request, const Deadline& deadline) {
  if (decided_) return current_->send(request, deadline);
  try {
    std::string reply = current_->send(request, deadline);
    decided_ = true;
    return reply;
  } catch (const WrongProtocol&) {
  } catch (const PlugError& e) {
    // Refused connections are the only unreachable errors not worth retrying.
    if (e.kind() != PlugError::kUnreachable || e.retryable()) throw;
  }
  current_ = std::make_unique<KlapTransport>(klap_device_, std::move(credentials_));
  decided_ = true;
  return current_->send(request, deadline);
}

}  // namespace crossrig::plugctl
