#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "plugctl/device_model.h"
#include "plugctl/protocol.h"

namespace crossrig::plugctl {

/// A plug or strip (or, with a child selector, one outlet of a strip) and what can be done
/// with it; each call is one or two requests through the protocol.
class Device {
 public:
  /// child: a --child selector (number from 1, id or alias), or nullopt for the whole device.
  Device(Protocol& protocol, std::optional<std::string> child);

  /// The device's system.get_sysinfo object.
  nlohmann::json sysinfo();
  /// The outlet the child selector names, looked up once.
  const std::optional<Outlet>& outlet();
  /// Whether the relay (or the outlet) is on.
  bool is_on();
  /// Switches the relay (or the outlet).
  void set_on(bool on);
  /// Switches to the other state and returns the new one.
  bool toggle();
  /// Reboots the device after a one-second delay.
  void reboot();
  /// Whether the LED is lit.
  bool led();
  /// Lights or darkens the LED (device-wide, also with a child selected).
  void set_led(bool on);
  /// The alias of the device (or outlet).
  std::string alias();
  /// Renames the device (or outlet).
  void set_alias(const std::string& alias);
  /// Realtime readings, normalized (see normalize_realtime).
  nlohmann::json emeter_realtime();
  /// Daily energy of one month, normalized (see normalize_stats).
  nlohmann::json emeter_days(int year, int month);
  /// Monthly energy of one year, normalized.
  nlohmann::json emeter_months(int year);
  /// The device's time.get_time object.
  nlohmann::json time();
  /// Sends any request (with the outlet's context when a child is selected); returns the reply.
  nlohmann::json raw(const nlohmann::json& request);

 private:
  nlohmann::json query(nlohmann::json request);
  nlohmann::json module_answer(const nlohmann::json& reply, const char* module, const char* method);

  Protocol& protocol_;
  std::optional<std::string> selector_;
  std::optional<Outlet> outlet_;
};

}  // namespace crossrig::plugctl
