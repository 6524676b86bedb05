#include "rig/matrix/markup_text.h"

#include <cstdint>

namespace crossrig::rig::matrix {
namespace {

// XML 1.0's Char production: anything else makes the document ill-formed, however escaped.
bool xml_char(std::uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// Length of the well-formed UTF-8 sequence at the start of s and its code point, or 0 when the
// bytes there are not one (stray continuation, overlong form, surrogate, beyond U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::uint32_t& code) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  std::uint8_t lead = byte(0);
  std::size_t n = 0;
  if (lead < 0x80) {
    n = 1;
  } else if ((lead & 0xE0) == 0xC0) {
    n = 2;
  } else if ((lead & 0xF0) == 0xE0) {
    n = 3;
  } else if ((lead & 0xF8) == 0xF0) {
    n = 4;
  }
  if (n == 0 || n > s.size()) return 0;
  code = n == 1 ? lead : lead & (0x7F >> n);
  for (std::size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMin[n] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

std::string markup_text(std::string_view s, bool attribute) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    std::uint32_t c = 0;
    std::size_t n = utf8_sequence(s, c);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      s.remove_prefix(1);
      continue;
    }
    std::string_view bytes = s.substr(0, n);
    s.remove_prefix(n);
    if (!xml_char(c)) {
      out += "\xEF\xBF\xBD";
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";  // HTML 4 has no &apos;; both XML and HTML read this
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += bytes;
    }
  }
  return out;
}

}  // namespace crossrig::rig::matrix
