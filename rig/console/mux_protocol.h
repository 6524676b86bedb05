#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace crossrig::rig::console {

/// The line a reader sends first on the multiplexer's unix socket:
/// "rig-console/1 backlog=BYTES[ ro]\n". Nothing is sent to a reader before its hello.
struct Hello {
  std::size_t backlog = 0;  ///< Bytes of past console output wanted before the live stream.
  bool read_only = false;   ///< The reader's input is discarded (jobs that only watch).
};

/// Longest hello line accepted, newline included.
inline constexpr std::size_t kMaxHello = 128;

/// The hello line for h.
std::string format_hello(const Hello& h);

/// Result of parsing the start of what a reader sent.
struct HelloParse {
  enum Status { kNeedMore, kOk, kBad } status = kNeedMore;
  Hello hello;
  std::size_t consumed = 0;  ///< Bytes of the hello line, newline included (kOk).
  std::string error;         ///< What is wrong (kBad).
};

/// Parses a hello at the start of bytes; kNeedMore until a newline (or kMaxHello bytes).
HelloParse parse_hello(std::string_view bytes);

/// A message from the multiplexer inside the console stream, on a line of its own:
/// "\r\n[rig console BOARD: text]\r\n".
std::string notice(std::string_view board, std::string_view text);

}  // namespace crossrig::rig::console
