#include "plugctl/sim/sim_device.h"

#include <gtest/gtest.h>

#include "plugctl/sim/fixture_store.h"

namespace crossrig::plugsim {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// A fixed instant so the tests never read the real clocks.
Now t0() {
  return {std::chrono::steady_clock::time_point(std::chrono::hours(1000)),
          std::chrono::system_clock::from_time_t(1700000000)};  // 2023-11-14 22:13:20 UTC
}

Now later(Now n, seconds s) {
  return {n.mono + s, n.wall + s};
}

json ask(SimDevice& d, const json& request, Now now = t0()) {
  DeviceEvents ignored;
  return d.handle(request, now, ignored);
}

json sysinfo_request() {
  return {{"system", {{"get_sysinfo", json::object()}}}};
}

SimDevice device(std::string_view model) {
  return SimDevice(load_fixture(model, ""), t0());
}

TEST(Fixtures, EveryEmbeddedFixtureParsesAndAnswersSysinfoConsistently) {
  ASSERT_GE(embedded_fixtures().size(), 8u);
  for (const auto& f : embedded_fixtures()) {
    SCOPED_TRACE(std::string(f.name));
    json fixture = load_fixture("", f.name);
    SimDevice d(fixture, t0());
    json info = ask(d, sysinfo_request())["system"]["get_sysinfo"];
    EXPECT_EQ(info["err_code"], 0);
    std::string model = info["model"];
    EXPECT_EQ(std::string(f.name).substr(0, model.size()), model)
        << "file name starts with the model";
    EXPECT_EQ(info["alias"], fixture["system"]["get_sysinfo"]["alias"]);
    if (d.is_strip()) {
      EXPECT_EQ(info["child_num"], info["children"].size());
      EXPECT_EQ(fixture["system"]["get_sysinfo"]["children"].size(), info["children"].size());
    } else {
      EXPECT_EQ(info["relay_state"], fixture["system"]["get_sysinfo"]["relay_state"]);
    }
    EXPECT_EQ(ask(d, {{"nosuchmodule", {{"x", json::object()}}}})["nosuchmodule"]["err_code"], -1);
    EXPECT_EQ(
        ask(d, {{"system",
                 {{"no_such_method", json::object()}}}})["system"]["no_such_method"]["err_code"],
        -2);
  }
}

TEST(Fixtures, ModelNamesPickTheXorEraFixture) {
  EXPECT_EQ(load_fixture("HS100", "")["system"]["get_sysinfo"]["model"], "HS100(US)");
  EXPECT_TRUE(load_fixture("HS100", "HS100(UK)_4.1_1.1.0").contains("discovery_result"));
  EXPECT_EQ(load_fixture("KP303", "")["system"]["get_sysinfo"]["model"], "KP303(UK)");
  EXPECT_THROW(load_fixture("HS999", ""), std::invalid_argument);
  EXPECT_THROW(load_fixture("HS100", "/nonexistent/fixture.json"), std::invalid_argument);
}

TEST(SimDevice, RelaySwitchesReportsChangesAndCountsOnTime) {
  SimDevice d = device("HS100");
  DeviceEvents events;
  json reply = d.handle({{"system", {{"set_relay_state", {{"state", 1}}}}}}, t0(), events);
  EXPECT_EQ(reply["system"]["set_relay_state"]["err_code"], 0);
  ASSERT_EQ(events.changes.size(), 1u);
  EXPECT_EQ(events.changes[0].outlet, 1);
  EXPECT_TRUE(events.changes[0].on);
  json info = ask(d, sysinfo_request(), later(t0(), seconds(42)))["system"]["get_sysinfo"];
  EXPECT_EQ(info["relay_state"], 1);
  EXPECT_EQ(info["on_time"], 42);

  DeviceEvents again;
  d.handle({{"system", {{"set_relay_state", {{"state", 1}}}}}}, t0(), again);
  EXPECT_TRUE(again.changes.empty()) << "switching to the same state is not a change";
  EXPECT_EQ(
      ask(d, {{"system",
               {{"set_relay_state", {{"state", "on"}}}}}})["system"]["set_relay_state"]["err_code"],
      -3);
}

TEST(SimDevice, PlugWithoutEmeterSaysModuleNotSupported) {
  SimDevice d = device("HS100");
  json reply = ask(d, {{"emeter", {{"get_realtime", json::object()}}}});
  EXPECT_EQ(reply["emeter"]["err_code"], -1);
  EXPECT_EQ(reply["emeter"]["err_msg"], "module not support");
}

TEST(SimDevice, FloatEmeterFollowsTheRelay) {
  SimDevice d = device("HS110");
  json on = ask(d, {{"emeter", {{"get_realtime", json::object()}}}})["emeter"]["get_realtime"];
  EXPECT_DOUBLE_EQ(on["power"].get<double>(), 0.928511);
  EXPECT_DOUBLE_EQ(on["voltage"].get<double>(), 231.067823);
  ask(d, {{"system", {{"set_relay_state", {{"state", 0}}}}}});
  json off = ask(d, {{"emeter", {{"get_realtime", json::object()}}}})["emeter"]["get_realtime"];
  EXPECT_EQ(off["power"].get<double>(), 0.0);
  EXPECT_EQ(off["current"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(off["voltage"].get<double>(), 231.067823);
  EXPECT_FALSE(off.contains("power_mw"));
}

TEST(SimDevice, MilliEmeterStatsUseIntegerWattHours) {
  SimDevice d = device("KP115");
  json rt = ask(d, {{"emeter", {{"get_realtime", json::object()}}}})["emeter"]["get_realtime"];
  EXPECT_EQ(rt["power_mw"], 45210);
  json days = ask(
      d, {{"emeter", {{"get_daystat", {{"year", 2023}, {"month", 11}}}}}})["emeter"]["get_daystat"];
  ASSERT_EQ(days["day_list"].size(), 14u) << "days up to today (the 14th)";
  EXPECT_TRUE(days["day_list"][0]["energy_wh"].is_number_integer());
  json months =
      ask(d, {{"emeter", {{"get_monthstat", {{"year", 2023}}}}}})["emeter"]["get_monthstat"];
  ASSERT_EQ(months["month_list"].size(), 11u);
  EXPECT_EQ(ask(d, {{"emeter",
                     {{"get_daystat",
                       {{"year", 2024}, {"month", 1}}}}}})["emeter"]["get_daystat"]["day_list"]
                .size(),
            0u);
  json floats = ask(
      *std::make_unique<SimDevice>(device("HS110")),
      {{"emeter", {{"get_daystat", {{"year", 2023}, {"month", 10}}}}}})["emeter"]["get_daystat"];
  ASSERT_EQ(floats["day_list"].size(), 31u);
  EXPECT_TRUE(floats["day_list"][0]["energy"].is_number_float());
}

TEST(SimDevice, StripChildrenAreAddressedByContext) {
  SimDevice d = device("HS300");
  ASSERT_EQ(d.outlet_count(), 6);
  json request = {{"context", {{"child_ids", {"SCRUBBED_CHILD_DEVICE_ID_3"}}}},
                  {"system", {{"set_relay_state", {{"state", 0}}}}}};
  DeviceEvents events;
  EXPECT_EQ(d.handle(request, t0(), events)["system"]["set_relay_state"]["err_code"], 0);
  ASSERT_EQ(events.changes.size(), 1u);
  EXPECT_EQ(events.changes[0].outlet, 3);
  json children = ask(d, sysinfo_request())["system"]["get_sysinfo"]["children"];
  EXPECT_EQ(children[2]["state"], 0);
  EXPECT_EQ(children[1]["state"], 1);

  json rt = ask(d, {{"context", {{"child_ids", {"SCRUBBED_CHILD_DEVICE_ID_3"}}}},
                    {"emeter", {{"get_realtime", json::object()}}}})["emeter"]["get_realtime"];
  EXPECT_EQ(rt["power_mw"], 0);
  rt = ask(d, {{"context", {{"child_ids", {"SCRUBBED_CHILD_DEVICE_ID_1"}}}},
               {"emeter", {{"get_realtime", json::object()}}}})["emeter"]["get_realtime"];
  EXPECT_EQ(rt["power_mw"], 62430);

  ask(d, {{"context", {{"child_ids", {"SCRUBBED_CHILD_DEVICE_ID_2"}}}},
          {"system", {{"set_dev_alias", {{"alias", "router"}}}}}});
  EXPECT_EQ(ask(d, sysinfo_request())["system"]["get_sysinfo"]["children"][1]["alias"], "router");

  json unknown = ask(d, {{"context", {{"child_ids", {"nope"}}}},
                         {"system", {{"set_relay_state", {{"state", 1}}}}}});
  EXPECT_NE(unknown["system"]["set_relay_state"]["err_code"], 0);

  DeviceEvents all;
  d.handle({{"system", {{"set_relay_state", {{"state", 0}}}}}}, t0(), all);
  EXPECT_EQ(all.changes.size(), 5u) << "a strip without context switches every outlet that was on";
}

TEST(SimDevice, AliasAndLed) {
  SimDevice d = device("HS105");
  EXPECT_EQ(ask(d, {{"system",
                     {{"set_dev_alias",
                       {{"alias", "lab board 7"}}}}}})["system"]["set_dev_alias"]["err_code"],
            0);
  EXPECT_EQ(
      ask(d, {{"system", {{"set_led_off", {{"off", 1}}}}}})["system"]["set_led_off"]["err_code"],
      0);
  json info = ask(d, sysinfo_request())["system"]["get_sysinfo"];
  EXPECT_EQ(info["alias"], "lab board 7");
  EXPECT_EQ(info["led_off"], 1);
  EXPECT_EQ(
      ask(d, {{"system",
               {{"set_dev_alias",
                 {{"alias", std::string(40, 'x')}}}}}})["system"]["set_dev_alias"]["err_code"],
      -3);
}

TEST(SimDevice, CountdownSwitchesTheRelayWhenTheDelayElapses) {
  SimDevice d = device("HS103");
  json added =
      ask(d, {{"count_down",
               {{"add_rule", {{"enable", 1}, {"delay", 30}, {"act", 1}, {"name", "boot"}}}}}});
  ASSERT_EQ(added["count_down"]["add_rule"]["err_code"], 0);
  EXPECT_EQ(
      ask(d,
          {{"count_down",
            {{"add_rule",
              {{"enable", 1}, {"delay", 5}, {"act", 0}}}}}})["count_down"]["add_rule"]["err_code"],
      -10);
  ASSERT_EQ(d.next_deadline(), t0().mono + seconds(30));
  json rules = ask(d, {{"count_down", {{"get_rules", json::object()}}}},
                   later(t0(), seconds(10)))["count_down"]["get_rules"];
  EXPECT_EQ(rules["rule_list"][0]["remain"], 20);

  DeviceEvents early;
  d.advance(later(t0(), seconds(29)), early);
  EXPECT_TRUE(early.changes.empty());
  DeviceEvents due;
  d.advance(later(t0(), seconds(30)), due);
  ASSERT_EQ(due.changes.size(), 1u);
  EXPECT_TRUE(due.changes[0].on);
  EXPECT_TRUE(d.relay(1));
  EXPECT_EQ(d.next_deadline(), std::nullopt);
  std::string id = added["count_down"]["add_rule"]["id"];
  EXPECT_EQ(ask(d, {{"count_down",
                     {{"delete_rule", {{"id", id}}}}}})["count_down"]["delete_rule"]["err_code"],
            0);
}

TEST(SimDevice, RebootTimeAndRawText) {
  SimDevice d = device("HS100");
  DeviceEvents events;
  d.handle({{"system", {{"reboot", {{"delay", 2}}}}}}, t0(), events);
  EXPECT_EQ(events.reboot_after, seconds(2));
  json t = ask(d, {{"time", {{"get_time", json::object()}}}})["time"]["get_time"];
  EXPECT_EQ(t["year"], 2023);
  EXPECT_EQ(t["month"], 11);
  EXPECT_EQ(t["mday"], 14);
  EXPECT_EQ(t["hour"], 22);
  DeviceEvents none;
  EXPECT_EQ(d.handle_text("{\"system\":", t0(), none), std::nullopt);
  EXPECT_EQ(d.handle_text("[1]", t0(), none), std::nullopt);
  EXPECT_EQ(json::parse(*d.handle_text("{\"system\":{\"get_sysinfo\":null}}", t0(),
                                       none))["system"]["get_sysinfo"]["model"],
            "HS100(US)");
}

}  // namespace
}  // namespace crossrig::plugsim
