#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crossrig::rig::console {

/// Turns a serial console byte stream into plain text, chunk by chunk: drops carriage returns,
/// ANSI/VT100 escape sequences (CSI, OSC, DCS and two-byte escapes) and other control bytes
/// except newline and tab. Sequences split across chunks are handled; an unterminated string
/// sequence (a stray ESC ]) gives up after kMaxStringBytes so no boot text is swallowed.
class TextCleaner {
 public:
  /// Bytes of an OSC/DCS string after which it is taken as noise and text resumes.
  static constexpr std::size_t kMaxStringBytes = 256;

  /// Appends the plain text of chunk to out.
  void feed(std::string_view chunk, std::string& out);

 private:
  enum class State : std::uint8_t { kText, kEsc, kEscIntermediate, kCsi, kString, kStringEsc };
  State state_ = State::kText;
  std::size_t string_bytes_ = 0;
};

}  // namespace crossrig::rig::console
