#include "rig/tftp/tftp_options.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace crossrig::rig::tftp {
namespace {

// A decimal number without sign, spaces or trailing text; nullopt otherwise.
std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::variant<Negotiated, std::string> negotiate(const std::vector<Option>& requested,
                                                std::uint64_t file_size,
                                                const OptionLimits& limits) {
  Negotiated n;
  for (const auto& [name, text] : requested) {
    auto value = parse_number(text);
    if (name == "blksize") {
      if (!value || *value < 8) return "blksize '" + text + "' is not a number from 8 to 65464";
      n.blksize = static_cast<std::uint16_t>(std::min<std::uint64_t>(*value, limits.max_blksize));
      n.oack.emplace_back(name, std::to_string(n.blksize));
    } else if (name == "windowsize") {
      if (!value || *value < 1) {
        return "windowsize '" + text + "' is not a number from 1 to 65535";
      }
      n.windowsize =
          static_cast<std::uint16_t>(std::min<std::uint64_t>(*value, limits.max_windowsize));
      n.oack.emplace_back(name, "");  // value set below, once blksize is known
    } else if (name == "timeout") {
      if (!value || *value < 1 || *value > 255) {
        return "timeout '" + text + "' is not a number of seconds from 1 to 255";
      }
      n.timeout = std::chrono::seconds(*value);
      n.oack.emplace_back(name, text);
    } else if (name == "tsize") {
      // In a read request the client sends 0 and the server answers with the size.
      // curl rejects an OACK with tsize 0, so an empty file's size is left unsaid.
      if (!value) return "tsize '" + text + "' is not a number";
      if (file_size > 0) n.oack.emplace_back(name, std::to_string(file_size));
    }
  }
  if (limits.max_window_bytes > 0) {
    auto fits = std::max<std::uint32_t>(1, limits.max_window_bytes / n.blksize);
    n.windowsize = static_cast<std::uint16_t>(std::min<std::uint32_t>(n.windowsize, fits));
  }
  for (auto& [name, value] : n.oack) {
    if (name == "windowsize") value = std::to_string(n.windowsize);
  }
  return n;
}

}  // namespace crossrig::rig::tftp
