#include "plugctl/sim/device_spec.h"

#include <charconv>
#include <fstream>
#include <stdexcept>

#include "common/host_port.h"

namespace crossrig::plugsim {

namespace {

std::uint16_t port_of(std::string_view value, std::string_view key) {
  unsigned n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc{} || ptr != value.data() + value.size() || n > 65535) {
    throw std::invalid_argument(std::string(key) + "=" + std::string(value) +
                                " is not a port number (0-65535)");
  }
  return static_cast<std::uint16_t>(n);
}

double number_of(std::string_view value, std::string_view key) {
  try {
    std::size_t used = 0;
    double d = std::stod(std::string(value), &used);
    if (used == value.size() && d >= 0) return d;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(std::string(key) + "=" + std::string(value) +
                              " is not a non-negative number");
}

void apply_option(DeviceSpec& spec, std::string_view key, std::string_view value) {
  if (key == "klap") {
    spec.klap_port = port_of(value, key);
  } else if (key == "klap-version") {
    if (value != "1" && value != "2" && value != "v1" && value != "v2") {
      throw std::invalid_argument("klap-version=" + std::string(value) + " must be 1 or 2");
    }
    spec.klap_version = value.back() == '1' ? plugctl::KlapVersion::kV1 : plugctl::KlapVersion::kV2;
  } else if (key == "credentials") {
    spec.credentials_file = value;
  } else if (key == "tdp") {
    spec.tdp_port = port_of(value, key);
  } else if (key == "xor") {
    if (value != "on" && value != "off")
      throw std::invalid_argument("xor=" + std::string(value) + " must be on or off");
    spec.serve_xor = value == "on";
  } else if (key == "session-timeout") {
    spec.session_timeout = std::chrono::seconds(static_cast<long>(number_of(value, key)));
  } else if (key == "reboot-time") {
    spec.reboot_time = std::chrono::milliseconds(static_cast<long>(number_of(value, key) * 1000));
  } else if (key == "name") {
    spec.name = value;
  } else if (key == "mac") {
    spec.mac = value;
  } else if (key == "alias") {
    spec.alias = value;
  } else {
    throw std::invalid_argument(
        "unknown device option \"" + std::string(key) +
        "\" (known: klap, klap-version, credentials, tdp, xor, session-timeout, "
        "reboot-time, name, mac, alias)");
  }
}

}  // namespace

DeviceSpec parse_device_spec(std::string_view text) {
  DeviceSpec spec;
  std::size_t comma = text.find(',');
  std::string_view head = text.substr(0, comma);
  std::size_t colon = head.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw std::invalid_argument("device \"" + std::string(text) +
                                "\" is not MODEL[@FIXTURE]:ADDR:PORT");
  }
  std::string_view model = head.substr(0, colon);
  if (std::size_t at = model.find('@'); at != std::string_view::npos) {
    spec.fixture = model.substr(at + 1);
    model = model.substr(0, at);
  }
  spec.model = model;
  std::string_view where = head.substr(colon + 1);
  // parse_host_port refuses port 0, which here means "pick one".
  bool pick =
      where.ends_with(":0") && (where.front() == '[' || where.find(':') == where.size() - 2);
  HostPort hp =
      pick ? parse_host_port(where.substr(0, where.size() - 2), 0) : parse_host_port(where, 9999);
  spec.address = hp.host;
  spec.port = hp.port;
  while (comma != std::string_view::npos) {
    std::size_t next = text.find(',', comma + 1);
    std::string_view item =
        text.substr(comma + 1, next == std::string_view::npos ? next : next - comma - 1);
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument("device option \"" + std::string(item) + "\" is not key=value");
    }
    apply_option(spec, item.substr(0, eq), item.substr(eq + 1));
    comma = next;
  }
  if (spec.klap_port && !spec.tdp_port) spec.tdp_port = 20002;
  if (!spec.serve_xor && !spec.klap_port) {
    throw std::invalid_argument("device \"" + std::string(text) + "\" serves neither XOR nor KLAP");
  }
  return spec;
}

Credentials read_credentials_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the credentials file " + path);
  Credentials c;
  std::getline(in, c.username);
  std::getline(in, c.password);
  for (std::string* s : {&c.username, &c.password}) {
    if (!s->empty() && s->back() == '\r') s->pop_back();
  }
  return c;
}

}  // namespace crossrig::plugsim
