#include "plugctl/sim/sim_device.h"

#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace crossrig::plugsim {

using nlohmann::json;
using std::chrono::duration_cast;
using std::chrono::seconds;

namespace {

json error_reply(int code, const char* message) {
  return {{"err_code", code}, {"err_msg", message}};
}
json module_not_supported() {
  return error_reply(-1, "module not support");
}
json method_not_supported() {
  return error_reply(-2, "method not support");
}
json invalid_argument() {
  return error_reply(-3, "invalid argument");
}
json entry_not_found() {
  return error_reply(-14, "entry not exist");
}
json ok() {
  return {{"err_code", 0}};
}

// The firmware stores aliases in a 32-byte field.
constexpr std::size_t kMaxAlias = 31;

std::optional<int> int_arg(const json& args, const char* name) {
  if (!args.is_object() || !args.contains(name) || !args[name].is_number_integer())
    return std::nullopt;
  return args[name].get<int>();
}

std::tm utc_of(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// A day's energy in Wh: made up, but stable from one call to the next.
int synthetic_day_wh(int year, int month, int day) {
  return 120 + (day * 53 + month * 17 + year) % 380;
}

}  // namespace

SimDevice::SimDevice(const json& fixture, Now now) : fixture_(fixture) {
  if (!fixture.is_object() || !fixture.contains("system") || !fixture["system"].is_object() ||
      !fixture["system"].contains("get_sysinfo") || !fixture["system"]["get_sysinfo"].is_object()) {
    throw std::invalid_argument("the fixture has no system.get_sysinfo object");
  }
  sysinfo_ = fixture["system"]["get_sysinfo"];
  if (!sysinfo_.contains("model") || !sysinfo_["model"].is_string()) {
    throw std::invalid_argument("the fixture's get_sysinfo has no model");
  }
  if (fixture.contains("discovery_result")) discovery_ = fixture["discovery_result"];

  auto since = [&](const json& node) {
    int on_time = node.contains("on_time") && node["on_time"].is_number_integer()
                      ? node["on_time"].get<int>()
                      : 0;
    return now.mono - seconds(on_time);
  };
  if (sysinfo_.contains("children") && sysinfo_["children"].is_array() &&
      !sysinfo_["children"].empty()) {
    strip_ = true;
    for (const auto& child : sysinfo_["children"]) {
      if (!child.is_object() || !child.contains("id") || !child["id"].is_string()) {
        throw std::invalid_argument("a child in the fixture's get_sysinfo has no id");
      }
      Outlet o;
      o.id = child["id"];
      o.alias = child.value("alias", "");
      o.on = child.value("state", 0) != 0;
      o.on_since = since(child);
      o.next_action = child.value("next_action", json{{"type", -1}});
      outlets_.push_back(std::move(o));
    }
  } else {
    if (!sysinfo_.contains("relay_state")) {
      throw std::invalid_argument("the fixture's get_sysinfo has neither relay_state nor children");
    }
    Outlet o;
    o.id = sysinfo_.value("deviceId", "");
    o.on = sysinfo_["relay_state"] != 0;
    o.on_since = since(sysinfo_);
    outlets_.push_back(std::move(o));
  }

  if (fixture.contains("emeter") && fixture["emeter"].contains("get_realtime")) {
    realtime_base_ = fixture["emeter"]["get_realtime"];
    realtime_base_.erase("err_code");
    if (realtime_base_.contains("power_mw")) {
      emeter_ = EmeterStyle::kMilli;
    } else if (realtime_base_.contains("power")) {
      emeter_ = EmeterStyle::kFloat;
    } else {
      throw std::invalid_argument(
          "the fixture's emeter.get_realtime has neither power nor power_mw");
    }
  }
}

std::string SimDevice::model() const {
  return sysinfo_["model"];
}
std::string SimDevice::mac() const {
  return sysinfo_.value("mac", "");
}

void SimDevice::set_mac(const std::string& mac) {
  sysinfo_["mac"] = mac;
  if (discovery_) {
    std::string dashed = mac;
    for (char& c : dashed)
      c = c == ':' ? '-' : c;
    (*discovery_)["mac"] = dashed;
  }
}

void SimDevice::restore_relay(int outlet, bool on, Now now) {
  Outlet& o = outlets_.at(static_cast<std::size_t>(outlet - 1));
  if (o.on != on) o.on_since = now.mono;
  o.on = on;
}

json SimDevice::sysinfo(Now now) const {
  json info = sysinfo_;
  auto on_time = [&](const Outlet& o) {
    return o.on ? duration_cast<seconds>(now.mono - o.on_since).count() : 0;
  };
  if (strip_) {
    json children = json::array();
    for (const Outlet& o : outlets_) {
      children.push_back({{"alias", o.alias},
                          {"id", o.id},
                          {"next_action", o.next_action},
                          {"on_time", on_time(o)},
                          {"state", o.on ? 1 : 0}});
    }
    info["children"] = std::move(children);
    info["child_num"] = outlets_.size();
  } else {
    info["relay_state"] = outlets_[0].on ? 1 : 0;
    info["on_time"] = on_time(outlets_[0]);
  }
  info["err_code"] = 0;
  return info;
}

std::optional<std::string> SimDevice::handle_text(std::string_view request, Now now,
                                                  DeviceEvents& events) {
  json parsed = json::parse(request, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return handle(parsed, now, events).dump();
}

json SimDevice::handle(const json& request, Now now, DeviceEvents& events) {
  advance(now, events);
  std::vector<int> targets;
  bool unknown_child = false;
  if (strip_ && request.contains("context") && request["context"].is_object() &&
      request["context"].contains("child_ids") && request["context"]["child_ids"].is_array()) {
    for (const auto& id : request["context"]["child_ids"]) {
      int found = -1;
      for (std::size_t i = 0; i < outlets_.size(); ++i) {
        if (id.is_string() && id.get<std::string>() == outlets_[i].id) found = static_cast<int>(i);
      }
      if (found < 0) unknown_child = true;
      targets.push_back(found);
    }
  }
  json reply = json::object();
  for (const auto& [module, calls] : request.items()) {
    if (module == "context") continue;
    if (!calls.is_object()) {
      reply[module] = invalid_argument();
      continue;
    }
    if (auto error = module_error(module)) {
      reply[module] = *error;
      continue;
    }
    json& out = reply[module] = json::object();
    for (const auto& [method, args] : calls.items()) {
      out[method] =
          unknown_child ? entry_not_found() : dispatch(module, method, args, targets, now, events);
    }
  }
  return reply;
}

const std::map<std::pair<std::string, std::string>, SimDevice::Method>& SimDevice::methods() {
  static const std::map<std::pair<std::string, std::string>, Method> kTable = {
      {{"system", "get_sysinfo"}, &SimDevice::get_sysinfo},
      {{"system", "set_relay_state"}, &SimDevice::set_relay_state},
      {{"system", "set_led_off"}, &SimDevice::set_led_off},
      {{"system", "set_dev_alias"}, &SimDevice::set_dev_alias},
      {{"system", "reboot"}, &SimDevice::reboot},
      {{"emeter", "get_realtime"}, &SimDevice::get_realtime},
      {{"emeter", "get_daystat"}, &SimDevice::get_daystat},
      {{"emeter", "get_monthstat"}, &SimDevice::get_monthstat},
      {{"emeter", "erase_emeter_stat"}, &SimDevice::erase_emeter_stat},
      {{"time", "get_time"}, &SimDevice::get_time},
      {{"time", "get_timezone"}, &SimDevice::get_timezone},
      {{"count_down", "get_rules"}, &SimDevice::get_rules},
      {{"count_down", "add_rule"}, &SimDevice::add_rule},
      {{"count_down", "edit_rule"}, &SimDevice::edit_rule},
      {{"count_down", "delete_rule"}, &SimDevice::delete_rule},
      {{"count_down", "delete_all_rules"}, &SimDevice::delete_all_rules},
  };
  return kTable;
}

std::optional<json> SimDevice::module_error(const std::string& module) const {
  bool recorded = fixture_.contains(module) && module != "discovery_result";
  if (recorded && fixture_[module].is_object() && fixture_[module].contains("err_code")) {
    return fixture_[module];
  }
  if (recorded) return std::nullopt;
  for (const auto& [key, fn] : methods()) {
    if (key.first == module && (module != "emeter" || emeter_ != EmeterStyle::kNone))
      return std::nullopt;
  }
  return module_not_supported();
}

json SimDevice::dispatch(const std::string& module, const std::string& method, const json& args,
                         const std::vector<int>& targets, Now now, DeviceEvents& events) {
  auto it = methods().find({module, method});
  if (it != methods().end()) return (this->*(it->second))(args, targets, now, events);
  // What the fixture recorded for modules we do not model (schedule, cnCloud, ...).
  if (fixture_.contains(module) && fixture_[module].is_object() &&
      fixture_[module].contains(method)) {
    return fixture_[module][method];
  }
  return method_not_supported();
}

void SimDevice::switch_relay(int index, bool on, Now now, DeviceEvents& events) {
  Outlet& o = outlets_.at(static_cast<std::size_t>(index));
  if (o.on == on) return;
  o.on = on;
  o.on_since = now.mono;
  events.changes.push_back({index + 1, on});
}

int SimDevice::scope_of(const std::vector<int>& targets) const {
  if (!targets.empty()) return targets.front();
  return strip_ ? -1 : 0;
}

void SimDevice::advance(Now now, DeviceEvents& events) {
  for (auto& [scope, rule] : rules_) {
    if (!rule.enable || rule.due > now.mono) continue;
    rule.enable = false;
    if (scope >= 0) {
      switch_relay(scope, rule.act != 0, now, events);
    } else {
      for (int i = 0; i < outlet_count(); ++i)
        switch_relay(i, rule.act != 0, now, events);
    }
  }
}

std::optional<std::chrono::steady_clock::time_point> SimDevice::next_deadline() const {
  std::optional<std::chrono::steady_clock::time_point> next;
  for (const auto& [scope, rule] : rules_) {
    if (rule.enable && (!next || rule.due < *next)) next = rule.due;
  }
  return next;
}

json SimDevice::get_sysinfo(const json&, const std::vector<int>&, Now now, DeviceEvents&) {
  return sysinfo(now);
}

json SimDevice::set_relay_state(const json& args, const std::vector<int>& targets, Now now,
                                DeviceEvents& events) {
  auto state = int_arg(args, "state");
  if (!state || (*state != 0 && *state != 1)) return invalid_argument();
  if (targets.empty()) {
    for (int i = 0; i < outlet_count(); ++i)
      switch_relay(i, *state != 0, now, events);
  } else {
    for (int t : targets)
      switch_relay(t, *state != 0, now, events);
  }
  return ok();
}

json SimDevice::set_led_off(const json& args, const std::vector<int>&, Now, DeviceEvents&) {
  auto off = int_arg(args, "off");
  if (!off || (*off != 0 && *off != 1)) return invalid_argument();
  sysinfo_["led_off"] = *off;
  return ok();
}

json SimDevice::set_dev_alias(const json& args, const std::vector<int>& targets, Now,
                              DeviceEvents&) {
  if (!args.is_object() || !args.contains("alias") || !args["alias"].is_string() ||
      args["alias"].get<std::string>().size() > kMaxAlias) {
    return invalid_argument();
  }
  if (targets.empty()) {
    sysinfo_["alias"] = args["alias"];
  } else {
    for (int t : targets)
      outlets_[static_cast<std::size_t>(t)].alias = args["alias"];
  }
  return ok();
}

json SimDevice::reboot(const json& args, const std::vector<int>&, Now, DeviceEvents& events) {
  int delay = int_arg(args, "delay").value_or(1);
  if (delay < 0) return invalid_argument();
  events.reboot_after = seconds(delay);
  return ok();
}

json SimDevice::realtime_of(int index) const {
  json r = realtime_base_;
  bool on = outlets_.at(static_cast<std::size_t>(index)).on;
  const char* total = emeter_ == EmeterStyle::kMilli ? "total_wh" : "total";
  if (stats_erased_) r[total] = 0;
  if (!on) {
    if (emeter_ == EmeterStyle::kMilli) {
      r["power_mw"] = 0;
      r["current_ma"] = 0;
    } else {
      r["power"] = 0.0;
      r["current"] = 0.0;
    }
  }
  return r;
}

json SimDevice::get_realtime(const json&, const std::vector<int>& targets, Now, DeviceEvents&) {
  json r;
  if (!targets.empty()) {
    r = realtime_of(targets.front());
  } else if (!strip_) {
    r = realtime_of(0);
  } else {
    r = realtime_of(0);
    for (int i = 1; i < outlet_count(); ++i) {
      json o = realtime_of(i);
      for (const char* key : {"power", "current", "total", "power_mw", "current_ma", "total_wh"}) {
        if (!r.contains(key)) continue;
        if (r[key].is_number_integer()) {
          r[key] = r[key].get<long long>() + o[key].get<long long>();
        } else {
          r[key] = r[key].get<double>() + o[key].get<double>();
        }
      }
    }
  }
  r["err_code"] = 0;
  return r;
}

json SimDevice::get_daystat(const json& args, const std::vector<int>&, Now now, DeviceEvents&) {
  if (fixture_["emeter"].contains("get_daystat")) return fixture_["emeter"]["get_daystat"];
  auto year = int_arg(args, "year");
  auto month = int_arg(args, "month");
  if (!year || !month || *month < 1 || *month > 12) return invalid_argument();
  std::tm today = utc_of(now.wall);
  int this_year = today.tm_year + 1900, this_month = today.tm_mon + 1;
  int last = 0;
  if (*year < this_year || (*year == this_year && *month < this_month)) {
    last = days_in_month(*year, *month);
  } else if (*year == this_year && *month == this_month) {
    last = today.tm_mday;
  }
  json days = json::array();
  for (int d = 1; d <= last && !stats_erased_; ++d) {
    int wh = synthetic_day_wh(*year, *month, d);
    json entry = {{"year", *year}, {"month", *month}, {"day", d}};
    if (emeter_ == EmeterStyle::kMilli) {
      entry["energy_wh"] = wh;
    } else {
      entry["energy"] = wh / 1000.0;
    }
    days.push_back(std::move(entry));
  }
  return {{"day_list", days}, {"err_code", 0}};
}

json SimDevice::get_monthstat(const json& args, const std::vector<int>&, Now now, DeviceEvents&) {
  if (fixture_["emeter"].contains("get_monthstat")) return fixture_["emeter"]["get_monthstat"];
  auto year = int_arg(args, "year");
  if (!year) return invalid_argument();
  std::tm today = utc_of(now.wall);
  int this_year = today.tm_year + 1900;
  int last_month = *year < this_year ? 12 : *year == this_year ? today.tm_mon + 1 : 0;
  json months = json::array();
  for (int m = 1; m <= last_month && !stats_erased_; ++m) {
    int last_day =
        *year == this_year && m == today.tm_mon + 1 ? today.tm_mday : days_in_month(*year, m);
    int wh = 0;
    for (int d = 1; d <= last_day; ++d)
      wh += synthetic_day_wh(*year, m, d);
    json entry = {{"year", *year}, {"month", m}};
    if (emeter_ == EmeterStyle::kMilli) {
      entry["energy_wh"] = wh;
    } else {
      entry["energy"] = wh / 1000.0;
    }
    months.push_back(std::move(entry));
  }
  return {{"month_list", months}, {"err_code", 0}};
}

json SimDevice::erase_emeter_stat(const json&, const std::vector<int>&, Now, DeviceEvents&) {
  stats_erased_ = true;
  return ok();
}

json SimDevice::get_time(const json&, const std::vector<int>&, Now now, DeviceEvents&) {
  std::tm t = utc_of(now.wall);
  return {
      {"year", t.tm_year + 1900}, {"month", t.tm_mon + 1}, {"mday", t.tm_mday}, {"hour", t.tm_hour},
      {"min", t.tm_min},          {"sec", t.tm_sec},       {"err_code", 0}};
}

json SimDevice::get_timezone(const json&, const std::vector<int>&, Now, DeviceEvents&) {
  // The simulated clock runs in UTC, index 39 of the firmware's zone table.
  return {{"index", 39}, {"err_code", 0}};
}

json SimDevice::get_rules(const json&, const std::vector<int>& targets, Now now, DeviceEvents&) {
  json list = json::array();
  auto it = rules_.find(scope_of(targets));
  if (it != rules_.end()) {
    const Rule& r = it->second;
    long long remain =
        r.enable ? std::max<long long>(0, duration_cast<seconds>(r.due - now.mono).count()) : 0;
    list.push_back({{"id", r.id},
                    {"name", r.name},
                    {"enable", r.enable ? 1 : 0},
                    {"delay", r.delay},
                    {"act", r.act},
                    {"remain", remain}});
  }
  return {{"rule_list", list}, {"err_code", 0}};
}

json SimDevice::add_rule(const json& args, const std::vector<int>& targets, Now now,
                         DeviceEvents&) {
  auto delay = int_arg(args, "delay");
  auto act = int_arg(args, "act");
  auto enable = int_arg(args, "enable");
  if (!delay || *delay < 0 || !act || (*act != 0 && *act != 1) || !enable)
    return invalid_argument();
  int scope = scope_of(targets);
  // The firmware keeps a single countdown rule per outlet.
  if (rules_.count(scope)) return error_reply(-10, "table is full");
  Rule r;
  char id[33];
  std::snprintf(id, sizeof id, "%032X", static_cast<unsigned>(next_rule_id_++));
  r.id = id;
  r.name = args.value("name", "countdown");
  r.enable = *enable != 0;
  r.delay = *delay;
  r.act = *act;
  r.due = now.mono + seconds(*delay);
  rules_[scope] = r;
  return {{"id", r.id}, {"err_code", 0}};
}

json SimDevice::edit_rule(const json& args, const std::vector<int>& targets, Now now,
                          DeviceEvents&) {
  auto it = rules_.find(scope_of(targets));
  if (it == rules_.end() || !args.is_object() || args.value("id", "") != it->second.id)
    return entry_not_found();
  Rule& r = it->second;
  if (auto d = int_arg(args, "delay")) r.delay = *d;
  if (auto a = int_arg(args, "act")) r.act = *a;
  if (auto e = int_arg(args, "enable")) r.enable = *e != 0;
  if (args.contains("name") && args["name"].is_string()) r.name = args["name"];
  r.due = now.mono + seconds(r.delay);
  return ok();
}

json SimDevice::delete_rule(const json& args, const std::vector<int>& targets, Now, DeviceEvents&) {
  auto it = rules_.find(scope_of(targets));
  if (it == rules_.end() || !args.is_object() || args.value("id", "") != it->second.id)
    return entry_not_found();
  rules_.erase(it);
  return ok();
}

json SimDevice::delete_all_rules(const json&, const std::vector<int>& targets, Now, DeviceEvents&) {
  rules_.erase(scope_of(targets));
  return ok();
}

}  // namespace crossrig::plugsim
