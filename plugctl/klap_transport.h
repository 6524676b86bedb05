#pragma once

#include <optional>
#include <string>

#include "common/host_port.h"
#include "plugctl/credentials.h"
#include "plugctl/http_message.h"
#include "plugctl/klap_cipher.h"
#include "plugctl/transport.h"

namespace crossrig::plugctl {

/// The default HTTP port of KLAP devices.
inline constexpr std::uint16_t kKlapPort = 80;

/// The session cookie's value in a Set-Cookie header ("TP_SESSIONID=abc;TIMEOUT=86400").
std::optional<std::string> klap_session_cookie(std::string_view set_cookie);

/// KLAP over HTTP: handshake1/handshake2 with the first auth hash the device accepts, then
/// AES-encrypted requests to /app/request?seq=N; handshakes again when the session expires.
class KlapTransport : public Transport {
 public:
  KlapTransport(HostPort device, Credentials credentials)
      : device_(std::move(device)), credentials_(std::move(credentials)) {}
  std::string send(std::string_view request, const Deadline& deadline) override;
  void reset() override;
  std::string name() const override { return "klap"; }
  std::string target() const override { return format_host_port(device_); }
  /// The KLAP version and credentials the device accepted, once a handshake succeeded.
  const std::optional<AuthCandidate>& accepted() const { return accepted_; }

 private:
  void handshake(const Deadline& deadline);
  HttpResponse post(const std::string& path, std::string body, const Deadline& deadline);

  HostPort device_;
  Credentials credentials_;
  std::optional<KlapSession> session_;
  std::optional<AuthCandidate> accepted_;
  std::string cookie_;
};

}  // namespace crossrig::plugctl
