#include "plugctl/device_model.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "plugctl/errors.h"

namespace crossrig::plugctl {

namespace {

PlugError bad_reply(const std::string& target, const std::string& what) {
  return PlugError(PlugError::kBadReply, target + ": " + what);
}

double number_at(const nlohmann::json& j, std::string_view key, const std::string& target) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) {
    throw bad_reply(target, "emeter reply has no number '" + std::string(key) + "'");
  }
  return it->get<double>();
}

// Reads a value in either of the two unit styles: the float key in the wanted unit, or the
// integer key in thousandths of it.
double either_unit(const nlohmann::json& j, std::string_view unit_key, std::string_view milli_key,
                   const std::string& target) {
  if (j.contains(unit_key)) return number_at(j, unit_key, target);
  if (j.contains(milli_key)) return number_at(j, milli_key, target) / 1000.0;
  throw bad_reply(target, "emeter reply has neither '" + std::string(unit_key) + "' nor '" +
                              std::string(milli_key) + "'");
}

int int_at(const nlohmann::json& j, std::string_view key, const std::string& target) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    throw bad_reply(target, "reply has no integer '" + std::string(key) + "'");
  }
  return it->get<int>();
}

}  // namespace

std::string string_or_empty(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

nlohmann::json sysinfo_of(const nlohmann::json& reply, const std::string& target) {
  if (!reply.contains("system") || !reply["system"].is_object()) {
    throw bad_reply(target, "no 'system' in reply");
  }
  const nlohmann::json& system = reply["system"];
  if (!system.contains("get_sysinfo") || !system["get_sysinfo"].is_object()) {
    throw bad_reply(target, "no 'system.get_sysinfo' in reply");
  }
  return system["get_sysinfo"];
}

std::vector<Outlet> outlets_of(const nlohmann::json& sysinfo, const std::string& target) {
  std::vector<Outlet> out;
  auto children = sysinfo.find("children");
  if (children == sysinfo.end()) return out;
  if (!children->is_array()) throw bad_reply(target, "sysinfo 'children' is not a list");
  for (const auto& c : *children) {
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string()) {
      throw bad_reply(target, "a child in sysinfo has no string 'id'");
    }
    Outlet o;
    o.index = static_cast<int>(out.size()) + 1;
    o.id = c["id"].get<std::string>();
    o.alias = string_or_empty(c, "alias");
    o.on = int_at(c, "state", target) != 0;
    out.push_back(std::move(o));
  }
  return out;
}

Outlet select_outlet(const std::vector<Outlet>& outlets, std::string_view selector,
                     const std::string& target) {
  if (outlets.empty()) {
    throw PlugError(PlugError::kUsage,
                    target + " is not a strip (it has no outlets); leave out --child");
  }
  int n = 0;
  auto [end, ec] = std::from_chars(selector.data(), selector.data() + selector.size(), n);
  if (ec == std::errc{} && end == selector.data() + selector.size() && n >= 1 &&
      n <= static_cast<int>(outlets.size())) {
    return outlets[static_cast<std::size_t>(n - 1)];
  }
  for (const auto& o : outlets) {
    if (o.id == selector) return o;
  }
  for (const auto& o : outlets) {
    if (o.alias == selector) return o;
  }
  std::string msg = target + ": no outlet '" + std::string(selector) +
                    "'; give a number from 1 to " + std::to_string(outlets.size()) +
                    ", an id or an alias:";
  for (const auto& o : outlets) {
    msg += "\n  " + std::to_string(o.index) + "  " + o.id + "  " + o.alias;
  }
  throw PlugError(PlugError::kUsage, msg);
}

bool relay_on(const nlohmann::json& sysinfo, const std::string& target) {
  if (sysinfo.contains("relay_state")) return int_at(sysinfo, "relay_state", target) != 0;
  auto outlets = outlets_of(sysinfo, target);
  if (outlets.empty()) throw bad_reply(target, "sysinfo has neither relay_state nor children");
  return std::any_of(outlets.begin(), outlets.end(), [](const Outlet& o) { return o.on; });
}

nlohmann::json for_child(nlohmann::json request, const std::string& child_id) {
  request["context"] = {{"child_ids", {child_id}}};
  return request;
}

nlohmann::json summarize_sysinfo(const nlohmann::json& sysinfo, const std::string& target) {
  nlohmann::json s = nlohmann::json::object();
  for (const char* key : {"alias", "model", "mac", "hw_ver", "sw_ver", "deviceId"}) {
    if (sysinfo.contains(key) && sysinfo[key].is_string()) s[key] = sysinfo[key];
  }
  for (const char* key : {"rssi", "on_time"}) {
    if (sysinfo.contains(key) && sysinfo[key].is_number()) s[key] = sysinfo[key];
  }
  s["on"] = relay_on(sysinfo, target);
  if (sysinfo.contains("led_off")) s["led"] = int_at(sysinfo, "led_off", target) == 0;
  auto outlets = outlets_of(sysinfo, target);
  if (!outlets.empty()) {
    s["children"] = nlohmann::json::array();
    for (const auto& o : outlets) {
      s["children"].push_back({{"index", o.index}, {"id", o.id}, {"alias", o.alias}, {"on", o.on}});
    }
  }
  return s;
}

nlohmann::json normalize_realtime(const nlohmann::json& rt, const std::string& target) {
  return {{"voltage_v", either_unit(rt, "voltage", "voltage_mv", target)},
          {"current_a", either_unit(rt, "current", "current_ma", target)},
          {"power_w", either_unit(rt, "power", "power_mw", target)},
          {"total_kwh", either_unit(rt, "total", "total_wh", target)}};
}

nlohmann::json normalize_stats(const nlohmann::json& list, const std::string& target) {
  if (!list.is_array()) throw bad_reply(target, "emeter statistics are not a list");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : list) {
    if (!e.is_object()) throw bad_reply(target, "an emeter statistics entry is not an object");
    nlohmann::json row = {{"year", int_at(e, "year", target)},
                          {"month", int_at(e, "month", target)}};
    if (e.contains("day")) row["day"] = int_at(e, "day", target);
    row["energy_kwh"] = either_unit(e, "energy", "energy_wh", target);
    out.push_back(std::move(row));
  }
  return out;
}

std::string format_device_time(const nlohmann::json& t, const std::string& target) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", int_at(t, "year", target),
                int_at(t, "month", target), int_at(t, "mday", target), int_at(t, "hour", target),
                int_at(t, "min", target), int_at(t, "sec", target));
  return buf;
}

}  // namespace crossrig::plugctl
