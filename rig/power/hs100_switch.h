#pragma once

#include <memory>

#include "rig/inventory/board.h"
#include "rig/power/power_switch.h"

namespace crossrig::rig {

/// The `hs100` driver: a TP-Link HS100-family plug, or one outlet of a strip, through the
/// plugctl library (XOR or KLAP chosen as plugctl does). KLAP credentials come as plugctl takes
/// them, never from argv: power.username and power.password_file, else KASA_USERNAME and
/// KASA_PASSWORD from the environment.
std::unique_ptr<PowerSwitch> make_hs100_switch(const Board& board, const PowerOptions& options);

}  // namespace crossrig::rig
