#pragma once

#include <memory>

#include "rig/inventory/board.h"
#include "rig/power/power_switch.h"

namespace crossrig::rig {

/// The `command` driver: the board's on/off/state shell commands, with its fields substituted,
/// for any PDU that has a command-line tool (as pdudaemon and LAVA device dictionaries do).
std::unique_ptr<PowerSwitch> make_command_switch(const Board& board, const PowerOptions& options);

}  // namespace crossrig::rig
