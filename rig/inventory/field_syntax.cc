#include "rig/inventory/field_syntax.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "common/host_port.h"

namespace crossrig::rig {

std::optional<std::string> check_board_name(std::string_view name) {
  if (name.empty()) return "a board name may not be empty";
  if (name.size() > 64) return "a board name may have at most 64 characters";
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return "a board name may hold only letters, digits, '.', '_' and '-'";
    }
  }
  if (name.front() == '.' || name.front() == '-')
    return "a board name may not start with '.' or '-'";
  return std::nullopt;
}

std::optional<std::string> normalize_mac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i % 3 == 2) {
      if (c != ':' && c != '-') return std::nullopt;
      out += ':';
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::optional<std::string> check_address(std::string_view text, bool port_required) {
  crossrig::HostPort hp;
  try {
    hp = crossrig::parse_host_port(text, 0);
  } catch (const std::invalid_argument& e) {
    return std::string(e.what());
  }
  if (hp.host.empty()) return "the host is missing";
  for (char c : hp.host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/') {
      return "'" + hp.host + "' is not a host name or address";
    }
  }
  if (port_required && hp.port == 0) return "give it as HOST:PORT";
  return std::nullopt;
}

std::optional<std::string> check_file_name(std::string_view name) {
  if (name.empty()) return "a file name may not be empty";
  if (name == "." || name == "..")
    return std::string(name == "." ? "'.'" : "'..'") + " is not a file name";
  if (name.find('/') != std::string_view::npos) {
    return "give a file name inside the board's tftp_dir, without '/'";
  }
  return std::nullopt;
}

std::optional<std::string> check_absolute_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return "give an absolute path (starting with '/')";
  return std::nullopt;
}

std::optional<double> parse_seconds(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (!(value >= 0 && value <= 3600)) return std::nullopt;
  return value;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto seconds = parse_seconds(text);
  if (!seconds) return std::nullopt;
  return std::chrono::milliseconds(std::lround(*seconds * 1000));
}

std::optional<int> parse_int_in(std::string_view text, int low, int high) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < low || value > high) return std::nullopt;
  return value;
}

}  // namespace crossrig::rig
