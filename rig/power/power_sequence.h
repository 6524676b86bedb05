#pragma once

#include <chrono>
#include <string>

#include "rig/power/power_switch.h"

namespace crossrig::rig {

/// Switches on or off and reads the state back until it agrees, up to
/// options.confirm_attempts reads options.confirm_interval apart; returns the reads it took.
/// Throws PowerError (kFailed) naming the board and what was read when it never agrees.
int switch_confirmed(PowerSwitch& power, bool on, const PowerOptions& options,
                     const std::string& board);

/// Off (confirmed), off_time, on (confirmed).
void power_cycle(PowerSwitch& power, std::chrono::milliseconds off_time,
                 const PowerOptions& options, const std::string& board);

}  // namespace crossrig::rig
