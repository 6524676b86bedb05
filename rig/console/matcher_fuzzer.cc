// Feeds arbitrary console bytes, cut into chunks chosen by the input, to the matcher.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rig/console/matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using crossrig::rig::console::Matcher;
  Matcher m(4096);
  m.set_patterns({"login: ", R"(LAVA_SIGNAL_(\w+) ([^\n]*))", "^# $", "Kernel panic.*"});
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    std::size_t take = 1 + static_cast<unsigned char>(in.front()) % 64;
    in.remove_prefix(1);
    take = take < in.size() ? take : in.size();
    auto r = m.feed(in.substr(0, take));
    while (r) r = m.feed({});
    in.remove_prefix(take);
  }
  (void)m.recent_lines();
  return 0;
}
