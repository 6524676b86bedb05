#include "rig/power/power_sequence.h"

#include <thread>

namespace crossrig::rig {

int switch_confirmed(PowerSwitch& power, bool on, const PowerOptions& options,
                     const std::string& board) {
  power.set(on);
  for (int attempt = 1;; ++attempt) {
    if (power.is_on() == on) return attempt;
    if (attempt >= options.confirm_attempts) break;
    std::this_thread::sleep_for(options.confirm_interval);
  }
  const char* wanted = on ? "on" : "off";
  const char* read = on ? "off" : "on";
  throw PowerError(PowerError::kFailed,
                   "board '" + board + "': switched " + wanted + " but " + power.describe() +
                       " still read " + read + " after " +
                       std::to_string(options.confirm_attempts) +
                       " reads; check the plug and its wiring (power.confirm_attempts and "
                       "power.confirm_interval allow a slow one more time)");
}

void power_cycle(PowerSwitch& power, std::chrono::milliseconds off_time,
                 const PowerOptions& options, const std::string& board) {
  switch_confirmed(power, false, options, board);
  std::this_thread::sleep_for(off_time);
  switch_confirmed(power, true, options, board);
}

}  // namespace crossrig::rig
