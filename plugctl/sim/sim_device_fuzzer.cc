// libFuzzer target: whatever a client sends, the emulated strip answers or drops it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plugctl/sim/fixture_store.h"
#include "plugctl/sim/sim_device.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossrig::plugsim;
  static const nlohmann::json fixture = load_fixture("HS300", "");
  Now now = Now::current();
  SimDevice device(fixture, now);
  DeviceEvents events;
  device.handle_text(std::string_view(reinterpret_cast<const char*>(data), size), now, events);
  return 0;
}
