// Parses arbitrary bytes as the hello a reader sends to the multiplexer.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rig/console/mux_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossrig::rig::console;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  HelloParse p = parse_hello(in);
  if (p.status == HelloParse::kOk) {
    // A good hello is a whole line inside the input, and formats back to an equivalent one.
    if (p.consumed == 0 || p.consumed > size || in[p.consumed - 1] != '\n') std::abort();
    HelloParse again = parse_hello(format_hello(p.hello));
    if (again.status != HelloParse::kOk || again.hello.backlog != p.hello.backlog ||
        again.hello.read_only != p.hello.read_only) {
      std::abort();
    }
  }
  return 0;
}
