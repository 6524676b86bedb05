#include "rig/power/drivers.h"

#include <array>

#include "rig/inventory/field_syntax.h"
#include "rig/power/command_switch.h"
#include "rig/power/hs100_switch.h"

namespace crossrig::rig {

namespace {

constexpr std::array<PowerDriver, 2> kDrivers{{
    {"hs100", make_hs100_switch},
    {"command", make_command_switch},
}};

}  // namespace

std::span<const PowerDriver> power_drivers() {
  return kDrivers;
}

std::unique_ptr<PowerSwitch> make_power_switch(const Board& board, const PowerOptions& options) {
  for (const auto& d : kDrivers) {
    if (d.name == board.power.driver) return d.make(board, options);
  }
  throw PowerError(PowerError::kUsage, "board '" + board.name + "': no power driver named '" +
                                           board.power.driver + "'");
}

PowerOptions power_options_of(const Board& board) {
  PowerOptions o;
  const auto& s = board.power.settings;
  // The inventory loader has checked these values; a bad one keeps the default.
  if (auto it = s.find("timeout"); it != s.end()) {
    if (auto v = parse_duration(it->second); v && v->count() > 0) o.timeout = *v;
  }
  if (auto it = s.find("confirm_attempts"); it != s.end()) {
    if (auto v = parse_int_in(it->second, 1, 100)) o.confirm_attempts = *v;
  }
  if (auto it = s.find("confirm_interval"); it != s.end()) {
    if (auto v = parse_duration(it->second)) o.confirm_interval = *v;
  }
  return o;
}

}  // namespace crossrig::rig
