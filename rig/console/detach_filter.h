#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crossrig::rig::console {

/// The keys that end `rig console attach`: the escape character followed by '.' at the start
/// of a line (as ssh does: "~." after Enter), and optionally one key anywhere (e.g. Ctrl-]).
struct DetachKeys {
  std::optional<char> escape = '~';  ///< nullopt disables the escape sequence.
  std::optional<char> detach_key;    ///< A single byte that detaches wherever it is typed.
};

/// Parses "^]", "^X" or a single character; "none" gives nullopt. Throws std::invalid_argument.
std::optional<char> parse_key(std::string_view text);

/// Filters what a person types: forwards everything except the detach sequence. At line start
/// the escape char is held until the next key: '.' detaches, the escape char again sends one
/// escape char, anything else sends both.
class DetachFilter {
 public:
  explicit DetachFilter(DetachKeys keys) : keys_(keys) {}
  /// Appends the bytes to forward to out; true when detach was typed (later bytes are dropped).
  bool feed(std::string_view typed, std::string& out);

 private:
  DetachKeys keys_;
  bool at_line_start_ = true;
  bool after_escape_ = false;
};

}  // namespace crossrig::rig::console
