// Feeds arbitrary bytes to the inventory loader: it must return an inventory or throw
// InventoryError, never crash or throw anything else.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rig/inventory/inventory.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    crossrig::rig::parse_inventory(std::string_view(reinterpret_cast<const char*>(data), size),
                                   "fuzz");
  } catch (const crossrig::rig::InventoryError&) {
  }
  return 0;
}
