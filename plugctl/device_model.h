#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace crossrig::plugctl {

/// One outlet of a strip, as its sysinfo lists it; index counts from 1 as printed on the strip.
struct Outlet {
  int index = 0;
  std::string id, alias;
  bool on = false;
};

/// j[key] if j is an object holding a string there, else "".
std::string string_or_empty(const nlohmann::json& j, std::string_view key);

/// The system.get_sysinfo object of a reply; throws PlugError (kBadReply) if it has none.
nlohmann::json sysinfo_of(const nlohmann::json& reply, const std::string& target);

/// The outlets of a strip (empty for a single plug).
std::vector<Outlet> outlets_of(const nlohmann::json& sysinfo, const std::string& target);

/// The outlet a --child selector names: its number, its id, or its alias, in that order.
/// Throws PlugError (kUsage) listing the outlets when none matches.
Outlet select_outlet(const std::vector<Outlet>& outlets, std::string_view selector,
                     const std::string& target);

/// Whether the relay is on: relay_state of a plug, or any outlet of a strip.
bool relay_on(const nlohmann::json& sysinfo, const std::string& target);

/// request with {"context":{"child_ids":[child_id]}} added.
nlohmann::json for_child(nlohmann::json request, const std::string& child_id);

/// A compact, firmware-independent summary of sysinfo for `info`.
nlohmann::json summarize_sysinfo(const nlohmann::json& sysinfo, const std::string& target);

/// Realtime emeter readings in V, A, W and kWh, from either firmware style (floats voltage,
/// current, power, total, or integers voltage_mv, current_ma, power_mw, total_wh).
nlohmann::json normalize_realtime(const nlohmann::json& realtime, const std::string& target);

/// A day_list or month_list as [{year, month[, day], energy_kwh}], from either firmware style
/// (energy in kWh or energy_wh).
nlohmann::json normalize_stats(const nlohmann::json& list, const std::string& target);

/// "YYYY-MM-DD HH:MM:SS" of a time.get_time answer.
std::string format_device_time(const nlohmann::json& time, const std::string& target);

}  // namespace crossrig::plugctl
