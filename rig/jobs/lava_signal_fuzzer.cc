// Console lines are outside input: the signal parser must take any bytes.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rig/jobs/lava_signal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  if (auto signal = crossrig::rig::find_lava_signal(line)) crossrig::rig::test_case_of(*signal);
  return 0;
}
