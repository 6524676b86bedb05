#include "rig/console/mux_protocol.h"

#include <charconv>

namespace crossrig::rig::console {

namespace {
constexpr std::string_view kMagic = "rig-console/1";
}

std::string format_hello(const Hello& h) {
  return std::string(kMagic) + " backlog=" + std::to_string(h.backlog) +
         (h.read_only ? " ro" : "") + "\n";
}

HelloParse parse_hello(std::string_view bytes) {
  HelloParse r;
  std::size_t nl = bytes.find('\n');
  if (nl == std::string_view::npos) {
    if (bytes.size() >= kMaxHello) {
      r.status = HelloParse::kBad;
      r.error = "hello line longer than " + std::to_string(kMaxHello) + " bytes";
    }
    return r;
  }
  r.status = HelloParse::kBad;
  if (nl + 1 > kMaxHello) {
    r.error = "hello line longer than " + std::to_string(kMaxHello) + " bytes";
    return r;
  }
  std::string_view line = bytes.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.substr(0, kMagic.size()) != kMagic) {
    r.error = "expected a hello line starting with '" + std::string(kMagic) +
              "' (use rig console attach, or see rig/console/README.md)";
    return r;
  }
  line.remove_prefix(kMagic.size());
  bool have_backlog = false;
  while (!line.empty()) {
    if (line.front() != ' ') {
      r.error = "hello fields must be separated by spaces";
      return r;
    }
    line.remove_prefix(1);
    std::string_view field = line.substr(0, line.find(' '));
    line.remove_prefix(field.size());
    if (field == "ro") {
      r.hello.read_only = true;
    } else if (field.substr(0, 8) == "backlog=") {
      std::string_view num = field.substr(8);
      auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), r.hello.backlog);
      if (ec != std::errc() || end != num.data() + num.size() || num.empty()) {
        r.error = "bad backlog '" + std::string(num) + "' in hello";
        return r;
      }
      have_backlog = true;
    } else {
      r.error = "unknown hello field '" + std::string(field) + "'";
      return r;
    }
  }
  if (!have_backlog) {
    r.error = "hello lacks backlog=BYTES";
    return r;
  }
  r.status = HelloParse::kOk;
  r.consumed = nl + 1;
  return r;
}

std::string notice(std::string_view board, std::string_view text) {
  return "\r\n[rig console " + std::string(board) + ": " + std::string(text) + "]\r\n";
}

}  // namespace crossrig::rig::console
