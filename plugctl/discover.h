#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace crossrig::plugctl {

/// A device that answered discovery.
struct DiscoveredDevice {
  std::string ip, mac, model, alias;
  std::string transport;   ///< "xor" or "klap".
  std::uint16_t port = 0;  ///< The port to give in -H: XOR TCP port or KLAP HTTP port.
  std::optional<bool> on;  ///< Relay state, known only from XOR answers.
  nlohmann::json details;  ///< The sysinfo (XOR) or discovery result (KLAP) as received.
};

/// "AA:BB:CC:DD:EE:FF" from any case and ':' or '-' separators.
std::string normalize_mac(std::string_view mac);

/// The device a UDP discovery answer from ip describes: an XOR sysinfo answer or a TDP reply;
/// nullopt for anything else.
std::optional<DiscoveredDevice> parse_discovery_answer(std::span<const std::uint8_t> datagram,
                                                       const std::string& ip);

/// Adds device unless one with the same MAC is already there (devices answer every probe).
void add_unique(std::vector<DiscoveredDevice>& devices, DiscoveredDevice device);

/// Where the probes go; devices listen on the standard ports, tests elsewhere.
struct DiscoveryPorts {
  std::uint16_t xor_port = 9999;
  std::uint16_t klap_port = 20002;
};

/// Broadcasts both probes to target (an IPv4 broadcast address) and collects answers for the
/// whole timeout; throws PlugError when the probes cannot be sent.
std::vector<DiscoveredDevice> discover(const std::string& target, std::chrono::milliseconds timeout,
                                       DiscoveryPorts ports = {});

}  // namespace crossrig::plugctl
