#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossrig::plugsim {

/// The two clocks a device reads: monotonic for delays, wall for its clock module.
struct Now {
  std::chrono::steady_clock::time_point mono;
  std::chrono::system_clock::time_point wall;
  /// The current time of both clocks.
  static Now current() {
    return {std::chrono::steady_clock::now(), std::chrono::system_clock::now()};
  }
};

/// One relay that switched, numbered from 1 as printed on a strip (a plug has outlet 1).
struct RelayChange {
  int outlet = 1;
  bool on = false;
};

/// What a request or the passing of time did beyond the reply.
struct DeviceEvents {
  std::vector<RelayChange> changes;
  /// Set when the device was asked to reboot, after this delay.
  std::optional<std::chrono::seconds> reboot_after;
};

/// A plug or strip as the firmware behaves, built from a python-kasa fixture: a pure state
/// machine from request JSON to reply JSON, with time passed in.
class SimDevice {
 public:
  /// Builds the device; throws std::invalid_argument naming what the fixture lacks.
  SimDevice(const nlohmann::json& fixture, Now now);

  /// The reply to one request object (every module and method it names).
  nlohmann::json handle(const nlohmann::json& request, Now now, DeviceEvents& events);
  /// The reply text to a request text; nullopt when it is not a JSON object (the firmware
  /// drops such requests without answering).
  std::optional<std::string> handle_text(std::string_view request, Now now, DeviceEvents& events);

  /// Fires the countdown rules whose delay has elapsed.
  void advance(Now now, DeviceEvents& events);
  /// When the next countdown rule fires, if one is running.
  std::optional<std::chrono::steady_clock::time_point> next_deadline() const;

  /// Number of relays: 1 for a plug, child_num for a strip.
  int outlet_count() const { return static_cast<int>(outlets_.size()); }
  bool is_strip() const { return strip_; }
  bool relay(int outlet) const { return outlets_.at(static_cast<std::size_t>(outlet - 1)).on; }
  /// Sets a relay without events, as power-up restores it from a state file.
  void restore_relay(int outlet, bool on, Now now);
  /// Replaces the MAC address the device reports ("AA:BB:CC:DD:EE:FF").
  void set_mac(const std::string& mac);
  std::string mac() const;
  std::string model() const;
  /// The current get_sysinfo answer.
  nlohmann::json sysinfo(Now now) const;
  /// The fixture's discovery_result, if it has one (KLAP-era devices).
  const std::optional<nlohmann::json>& discovery_result() const { return discovery_; }

 private:
  enum class EmeterStyle { kNone, kFloat, kMilli };
  struct Rule {
    std::string id, name;
    bool enable = false;
    int delay = 0, act = 0;
    std::chrono::steady_clock::time_point due;
  };
  struct Outlet {
    std::string id, alias;
    bool on = false;
    std::chrono::steady_clock::time_point on_since;
    nlohmann::json next_action;
  };
  using Method = nlohmann::json (SimDevice::*)(const nlohmann::json& args,
                                               const std::vector<int>& targets, Now now,
                                               DeviceEvents& events);

  std::optional<nlohmann::json> module_error(const std::string& module) const;
  nlohmann::json dispatch(const std::string& module, const std::string& method,
                          const nlohmann::json& args, const std::vector<int>& targets, Now now,
                          DeviceEvents& events);
  void switch_relay(int index, bool on, Now now, DeviceEvents& events);
  nlohmann::json realtime_of(int index) const;
  int scope_of(const std::vector<int>& targets) const;

  nlohmann::json get_sysinfo(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json set_relay_state(const nlohmann::json&, const std::vector<int>&, Now,
                                 DeviceEvents&);
  nlohmann::json set_led_off(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json set_dev_alias(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json reboot(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json get_realtime(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json get_daystat(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json get_monthstat(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json erase_emeter_stat(const nlohmann::json&, const std::vector<int>&, Now,
                                   DeviceEvents&);
  nlohmann::json get_time(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json get_timezone(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json get_rules(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json add_rule(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json edit_rule(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json delete_rule(const nlohmann::json&, const std::vector<int>&, Now, DeviceEvents&);
  nlohmann::json delete_all_rules(const nlohmann::json&, const std::vector<int>&, Now,
                                  DeviceEvents&);

  static const std::map<std::pair<std::string, std::string>, Method>& methods();

  nlohmann::json fixture_;
  nlohmann::json sysinfo_;
  std::optional<nlohmann::json> discovery_;
  bool strip_ = false;
  std::vector<Outlet> outlets_;
  EmeterStyle emeter_ = EmeterStyle::kNone;
  nlohmann::json realtime_base_;
  bool stats_erased_ = false;
  std::map<int, Rule> rules_;  // by scope: outlet index, or -1 for a whole strip
  int next_rule_id_ = 1;
};

}  // namespace crossrig::plugsim
