#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "rig/inventory/board.h"
#include "rig/power/power_switch.h"

namespace crossrig::rig {

/// One power driver: the name the inventory's power.driver gives, and how to make its switch.
struct PowerDriver {
  std::string_view name;
  std::unique_ptr<PowerSwitch> (*make)(const Board& board, const PowerOptions& options);
};

/// Every power driver, as data; the inventory's schemas name the same drivers.
std::span<const PowerDriver> power_drivers();

/// The board's power switch from the driver table; throws PowerError (kUsage) for a driver
/// the table lacks.
std::unique_ptr<PowerSwitch> make_power_switch(const Board& board, const PowerOptions& options);

/// The options the board's power section gives (timeout, confirm_attempts, confirm_interval),
/// defaults otherwise.
PowerOptions power_options_of(const Board& board);

}  // namespace crossrig::rig
