#include "plugctl/discover.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/net_io.h"
#include "common/unique_fd.h"
#include "plugctl/discovery_codec.h"
#include "plugctl/errors.h"
#include "plugctl/xor_cipher.h"
#include "plugctl/xor_transport.h"

namespace crossrig::plugctl {

namespace {

// Datagrams get lost on busy Wi-Fi; devices answer each copy and add_unique folds them.
constexpr int kProbeRounds = 3;
constexpr std::chrono::milliseconds kProbeInterval{300};

std::string string_at(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<DiscoveredDevice> parse_xor_answer(std::span<const std::uint8_t> datagram,
                                                 const std::string& ip) {
  nlohmann::json reply = nlohmann::json::parse(xor_decrypt(datagram), nullptr, false);
  if (!reply.is_object() || !reply.contains("system")) return std::nullopt;
  const auto& system = reply["system"];
  if (!system.is_object() || !system.contains("get_sysinfo")) return std::nullopt;
  const auto& info = system["get_sysinfo"];
  if (!info.is_object()) return std::nullopt;
  DiscoveredDevice d;
  d.ip = ip;
  d.mac = normalize_mac(string_at(info, "mac"));
  d.model = string_at(info, "model");
  d.alias = string_at(info, "alias");
  d.transport = "xor";
  d.port = kXorPort;
  auto relay = info.find("relay_state");
  if (relay != info.end() && relay->is_number_integer()) d.on = relay->get<int>() != 0;
  d.details = info;
  return d;
}

std::optional<DiscoveredDevice> parse_klap_answer(std::span<const std::uint8_t> datagram,
                                                  const std::string& ip) {
  auto result = decode_klap_discovery_reply(datagram);
  if (!result) return std::nullopt;
  DiscoveredDevice d;
  d.ip = ip;
  d.mac = normalize_mac(string_at(*result, "mac"));
  d.model = string_at(*result, "device_model");
  d.transport = "klap";
  d.port = 80;
  auto schm = result->find("mgt_encrypt_schm");
  if (schm != result->end() && schm->is_object()) {
    auto port = schm->find("http_port");
    if (port != schm->end() && port->is_number_integer()) {
      int p = port->get<int>();
      if (p > 0 && p < 65536) d.port = static_cast<std::uint16_t>(p);
    }
  }
  d.details = *result;
  return d;
}

}  // namespace

std::string normalize_mac(std::string_view mac) {
  std::string out;
  for (char c : mac) {
    if (c == '-') c = ':';
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    out += c;
  }
  return out;
}

std::optional<DiscoveredDevice> parse_discovery_answer(std::span<const std::uint8_t> datagram,
                                                       const std::string& ip) {
  if (datagram.size() >= kTdpHeaderSize && datagram[0] == 2) {
    if (auto d = parse_klap_answer(datagram, ip)) return d;
  }
  return parse_xor_answer(datagram, ip);
}

void add_unique(std::vector<DiscoveredDevice>& devices, DiscoveredDevice device) {
  bool known = std::any_of(devices.begin(), devices.end(), [&](const DiscoveredDevice& d) {
    return !device.mac.empty() ? d.mac == device.mac : d.ip == device.ip;
  });
  if (!known) devices.push_back(std::move(device));
}

std::vector<DiscoveredDevice> discover(const std::string& target, std::chrono::milliseconds timeout,
                                       DiscoveryPorts ports) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  if (inet_pton(AF_INET, target.c_str(), &to.sin_addr) != 1) {
    throw PlugError(PlugError::kUsage, "--target '" + target +
                                           "' is not an IPv4 address; give a broadcast "
                                           "address such as 192.168.1.255");
  }
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  if (!fd || setsockopt(fd.get(), SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) {
    throw PlugError(PlugError::kUnreachable,
                    std::string("cannot open a broadcast UDP socket: ") + std::strerror(errno));
  }
  const auto xor_query = encode_xor_discovery_query();
  const auto klap_query = encode_klap_discovery_query();
  auto send_probes = [&] {
    for (auto [port, query] :
         {std::pair{ports.xor_port, &xor_query}, std::pair{ports.klap_port, &klap_query}}) {
      to.sin_port = htons(port);
      if (sendto(fd.get(), query->data(), query->size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) < 0 &&
          errno != EAGAIN) {
        throw PlugError(PlugError::kUnreachable, "cannot send discovery probe to " + target + ": " +
                                                     std::strerror(errno) +
                                                     "; check --target and the network");
      }
    }
  };

  std::vector<DiscoveredDevice> devices;
  Deadline end(timeout);
  int rounds = 0;
  auto next_probe = Deadline::Clock::now();
  std::vector<std::uint8_t> buf(64 * 1024);
  while (!end.expired()) {
    if (rounds < kProbeRounds && Deadline::Clock::now() >= next_probe) {
      send_probes();
      ++rounds;
      next_probe += kProbeInterval;
    }
    int wait = end.remaining_ms();
    if (rounds < kProbeRounds) {
      auto until_probe =
          std::chrono::ceil<std::chrono::milliseconds>(next_probe - Deadline::Clock::now());
      wait = std::clamp(static_cast<int>(until_probe.count()), 0, wait);
    }
    pollfd p{fd.get(), POLLIN, 0};
    if (poll(&p, 1, wait) <= 0) continue;
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(fd.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                         &from_len);
    if (n <= 0) continue;
    char ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    auto answer = std::span(buf).first(static_cast<std::size_t>(n));
    if (auto d = parse_discovery_answer(answer, ip)) add_unique(devices, std::move(*d));
  }
  return devices;
}

}  // namespace crossrig::plugctl
