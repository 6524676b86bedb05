#include "rig/console/detach_filter.h"

#include <stdexcept>

namespace crossrig::rig::console {

std::optional<char> parse_key(std::string_view text) {
  if (text == "none") return std::nullopt;
  if (text.size() == 1) return text[0];
  if (text.size() == 2 && text[0] == '^' && text[1] >= '?' && text[1] <= '_') {
    return static_cast<char>(text[1] == '?' ? 0x7f : text[1] - '@');
  }
  if (text.size() == 2 && text[0] == '^' && text[1] >= 'a' && text[1] <= 'z') {
    return static_cast<char>(text[1] - 'a' + 1);
  }
  throw std::invalid_argument("bad key '" + std::string(text) +
                              "': give one character, ^X for Ctrl-X, or none");
}

bool DetachFilter::feed(std::string_view typed, std::string& out) {
  for (char c : typed) {
    if (keys_.detach_key && c == *keys_.detach_key) return true;
    if (after_escape_) {
      after_escape_ = false;
      if (c == '.') return true;
      if (c != *keys_.escape) out.push_back(*keys_.escape);
      out.push_back(c);
      at_line_start_ = c == '\r' || c == '\n';
      continue;
    }
    if (at_line_start_ && keys_.escape && c == *keys_.escape) {
      after_escape_ = true;
      continue;
    }
    out.push_back(c);
    at_line_start_ = c == '\r' || c == '\n';
  }
  return false;
}

}  // namespace crossrig::rig::console
