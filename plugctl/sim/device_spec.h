#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "plugctl/klap_cipher.h"

namespace crossrig::plugsim {

/// One --device argument: MODEL[@FIXTURE]:ADDR:PORT[,key=value...].
struct DeviceSpec {
  std::string model;
  std::string fixture;        ///< Embedded fixture name or file; empty: the model's default.
  std::string address;        ///< Numeric IPv4 or IPv6 address to listen on.
  std::uint16_t port = 9999;  ///< XOR port (TCP and UDP); 0 picks one.
  bool serve_xor = true;
  std::optional<std::uint16_t> klap_port;  ///< KLAP HTTP port; set when KLAP is served.
  plugctl::KlapVersion klap_version = plugctl::KlapVersion::kV2;
  std::string credentials_file;           ///< "username\npassword\n"; empty: blank credentials.
  std::optional<std::uint16_t> tdp_port;  ///< KLAP discovery port (20002 when KLAP is on).
  std::chrono::seconds session_timeout{86400};
  std::chrono::milliseconds reboot_time{1000};
  std::string name;   ///< Stable name for --on-change and --state-file; empty: derived.
  std::string mac;    ///< MAC to report; empty: derived from the bound address.
  std::string alias;  ///< Alias to start with; empty: the fixture's.
};

/// Parses a --device argument; throws std::invalid_argument saying which part is wrong.
DeviceSpec parse_device_spec(std::string_view text);

/// KLAP credentials of a device's owner.
struct Credentials {
  std::string username, password;
};

/// Reads a credentials file: the username on the first line, the password on the second.
/// Throws std::runtime_error naming the file.
Credentials read_credentials_file(const std::string& path);

}  // namespace crossrig::plugsim
