#include "plugctl/device.h"

#include "plugctl/errors.h"

namespace crossrig::plugctl {

namespace {
const nlohmann::json kEmpty = nlohmann::json::object();
}

Device::Device(Protocol& protocol, std::optional<std::string> child)
    : protocol_(protocol), selector_(std::move(child)) {}

nlohmann::json Device::sysinfo() {
  return sysinfo_of(protocol_.query({{"system", {{"get_sysinfo", kEmpty}}}}),
                    protocol_.transport().target());
}

const std::optional<Outlet>& Device::outlet() {
  if (selector_ && !outlet_) {
    std::string target = protocol_.transport().target();
    outlet_ = select_outlet(outlets_of(sysinfo(), target), *selector_, target);
  }
  return outlet_;
}

nlohmann::json Device::query(nlohmann::json request) {
  if (outlet()) request = for_child(std::move(request), outlet_->id);
  return protocol_.query(request);
}

nlohmann::json Device::module_answer(const nlohmann::json& reply, const char* module,
                                     const char* method) {
  return reply.at(module).at(method);  // check_reply has made sure both are objects
}

bool Device::is_on() {
  if (selector_) {
    // A fresh look-up: the cached outlet may predate a switch made by this command.
    outlet_.reset();
    return outlet()->on;
  }
  return relay_on(sysinfo(), protocol_.transport().target());
}

void Device::set_on(bool on) {
  query({{"system", {{"set_relay_state", {{"state", on ? 1 : 0}}}}}});
}

bool Device::toggle() {
  bool on = !is_on();
  set_on(on);
  return on;
}

void Device::reboot() {
  protocol_.query({{"system", {{"reboot", {{"delay", 1}}}}}});
}

bool Device::led() {
  auto info = sysinfo();
  auto it = info.find("led_off");
  if (it == info.end() || !it->is_number_integer()) {
    throw PlugError(PlugError::kBadReply,
                    protocol_.transport().target() + ": sysinfo has no integer 'led_off'");
  }
  return it->get<int>() == 0;
}

void Device::set_led(bool on) {
  protocol_.query({{"system", {{"set_led_off", {{"off", on ? 0 : 1}}}}}});
}

std::string Device::alias() {
  if (outlet()) {
    outlet_.reset();
    return outlet()->alias;
  }
  return string_or_empty(sysinfo(), "alias");
}

void Device::set_alias(const std::string& alias) {
  query({{"system", {{"set_dev_alias", {{"alias", alias}}}}}});
}

nlohmann::json Device::emeter_realtime() {
  auto reply = query({{"emeter", {{"get_realtime", kEmpty}}}});
  return normalize_realtime(module_answer(reply, "emeter", "get_realtime"),
                            protocol_.transport().target());
}

nlohmann::json Device::emeter_days(int year, int month) {
  auto reply = query({{"emeter", {{"get_daystat", {{"year", year}, {"month", month}}}}}});
  auto answer = module_answer(reply, "emeter", "get_daystat");
  return normalize_stats(answer.value("day_list", nlohmann::json()),
                         protocol_.transport().target());
}

nlohmann::json Device::emeter_months(int year) {
  auto reply = query({{"emeter", {{"get_monthstat", {{"year", year}}}}}});
  auto answer = module_answer(reply, "emeter", "get_monthstat");
  return normalize_stats(answer.value("month_list", nlohmann::json()),
                         protocol_.transport().target());
}

nlohmann::json Device::time() {
  return module_answer(protocol_.query({{"time", {{"get_time", kEmpty}}}}), "time", "get_time");
}

nlohmann::json Device::raw(const nlohmann::json& request) {
  return query(request);
}

}  // namespace crossrig::plugctl
