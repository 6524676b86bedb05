#include "rig/tftp/tftp_path.h"

#include <algorithm>

namespace crossrig::rig::tftp {

std::variant<std::string, PathRefused> confine(std::string_view name) {
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return PathRefused{"file name contains control characters"};
  }
  std::string out;
  std::size_t at = 0;
  while (at <= name.size()) {
    std::size_t slash = std::min(name.find('/', at), name.size());
    std::string_view part = name.substr(at, slash - at);
    at = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return PathRefused{"file name contains '..'"};
    if (!out.empty()) out += '/';
    out += part;
  }
  if (out.empty()) return PathRefused{"file name names no file"};
  return out;
}

}  // namespace crossrig::rig::tftp
