#include "plugctl/device_model.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "plugctl/errors.h"

namespace crossrig::plugctl {
namespace {

using nlohmann::json;

json fixture(const std::string& name) {
  std::ifstream in(CROSSRIG_SOURCE_DIR "/plugctl/fixtures/" + name);
  return json::parse(in);
}

TEST(DeviceModel, EveryFixtureSummarises) {
  int seen = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(CROSSRIG_SOURCE_DIR "/plugctl/fixtures")) {
    if (entry.path().extension() != ".json") continue;
    ++seen;
    std::ifstream in(entry.path());
    json f = json::parse(in);
    SCOPED_TRACE(entry.path().filename().string());
    json info = sysinfo_of(f, "dev");
    json s = summarize_sysinfo(info, "dev");
    EXPECT_EQ(s["model"], info["model"]);
    EXPECT_TRUE(s["on"].is_boolean());
    EXPECT_EQ(s.contains("children"), info.contains("children"));
    if (f.contains("emeter") && f["emeter"].contains("get_realtime")) {
      json rt = normalize_realtime(f["emeter"]["get_realtime"], "dev");
      EXPECT_GT(rt["voltage_v"].get<double>(), 90.0);
      EXPECT_LT(rt["voltage_v"].get<double>(), 260.0);
    }
  }
  EXPECT_GE(seen, 3);
}

TEST(DeviceModel, BothEmeterUnitStylesGiveTheSameUnits) {
  json floats =
      normalize_realtime(fixture("HS110(EU)_1.0_1.2.5.json")["emeter"]["get_realtime"], "dev");
  EXPECT_DOUBLE_EQ(floats["voltage_v"].get<double>(), 231.067823);
  EXPECT_DOUBLE_EQ(floats["current_a"].get<double>(), 0.014937);
  EXPECT_DOUBLE_EQ(floats["power_w"].get<double>(), 0.928511);
  EXPECT_DOUBLE_EQ(floats["total_kwh"].get<double>(), 55.139);
  json ints =
      normalize_realtime(fixture("HS300(US)_1.0_1.0.21.json")["emeter"]["get_realtime"], "dev");
  EXPECT_DOUBLE_EQ(ints["voltage_v"].get<double>(), 118.389);
  EXPECT_DOUBLE_EQ(ints["current_a"].get<double>(), 0.544);
  EXPECT_DOUBLE_EQ(ints["power_w"].get<double>(), 62.43);
  EXPECT_DOUBLE_EQ(ints["total_kwh"].get<double>(), 26.889);
  EXPECT_THROW(normalize_realtime({{"voltage", 1.0}}, "dev"), PlugError);
  EXPECT_THROW(
      normalize_realtime({{"voltage_mv", "x"}, {"current_ma", 1}, {"power_mw", 1}, {"total_wh", 1}},
                         "dev"),
      PlugError);
}

TEST(DeviceModel, StatisticsInBothStyles) {
  json days = normalize_stats(json::parse(R"([{"year":2024,"month":5,"day":1,"energy":0.25},
                                               {"year":2024,"month":5,"day":2,"energy_wh":750}])"),
                              "dev");
  EXPECT_EQ(days, json::parse(R"([{"year":2024,"month":5,"day":1,"energy_kwh":0.25},
                                  {"year":2024,"month":5,"day":2,"energy_kwh":0.75}])"));
  json months =
      normalize_stats(json::parse(R"([{"year":2024,"month":4,"energy_wh":12000}])"), "dev");
  EXPECT_FALSE(months[0].contains("day"));
  EXPECT_DOUBLE_EQ(months[0]["energy_kwh"].get<double>(), 12.0);
  EXPECT_THROW(normalize_stats(json::object(), "dev"), PlugError);
  EXPECT_THROW(normalize_stats(json::parse(R"([{"year":2024,"month":4}])"), "dev"), PlugError);
}

TEST(DeviceModel, StripOutletsAreSelectedByNumberIdOrAlias) {
  json info = sysinfo_of(fixture("HS300(US)_1.0_1.0.21.json"), "dev");
  auto outlets = outlets_of(info, "dev");
  ASSERT_EQ(outlets.size(), 6u);
  EXPECT_EQ(select_outlet(outlets, "1", "dev").id, "SCRUBBED_CHILD_DEVICE_ID_1");
  EXPECT_EQ(select_outlet(outlets, "6", "dev").index, 6);
  EXPECT_EQ(select_outlet(outlets, "SCRUBBED_CHILD_DEVICE_ID_4", "dev").index, 4);
  EXPECT_EQ(select_outlet(outlets, "#MASKED_NAME# 5", "dev").index, 5);
  for (const char* bad : {"0", "7", "-1", "1x", ""}) {
    try {
      select_outlet(outlets, bad, "dev");
      ADD_FAILURE() << bad;
    } catch (const PlugError& e) {
      EXPECT_EQ(e.kind(), PlugError::kUsage);
      EXPECT_NE(std::string(e.what()).find("SCRUBBED_CHILD_DEVICE_ID_6"), std::string::npos);
    }
  }
  json plug = sysinfo_of(fixture("HS100(US)_1.0_1.2.5.json"), "dev");
  EXPECT_TRUE(outlets_of(plug, "dev").empty());
  EXPECT_THROW(select_outlet(outlets_of(plug, "dev"), "1", "dev"), PlugError);
}

TEST(DeviceModel, RelayStateOfPlugsAndStrips) {
  json plug = sysinfo_of(fixture("HS100(US)_1.0_1.2.5.json"), "dev");
  EXPECT_FALSE(relay_on(plug, "dev"));
  plug["relay_state"] = 1;
  EXPECT_TRUE(relay_on(plug, "dev"));
  json strip = sysinfo_of(fixture("HS300(US)_1.0_1.0.21.json"), "dev");
  EXPECT_TRUE(relay_on(strip, "dev"));
  for (auto& c : strip["children"])
    c["state"] = 0;
  EXPECT_FALSE(relay_on(strip, "dev"));
  EXPECT_THROW(relay_on(json::object(), "dev"), PlugError);
  EXPECT_THROW(relay_on({{"relay_state", "on"}}, "dev"), PlugError);
}

TEST(DeviceModel, ChildContextAndTime) {
  json r = for_child({{"system", {{"set_relay_state", {{"state", 1}}}}}}, "ID2");
  EXPECT_EQ(r["context"], json({{"child_ids", {"ID2"}}}));
  EXPECT_EQ(
      format_device_time(
          {{"year", 2024}, {"month", 3}, {"mday", 9}, {"hour", 7}, {"min", 5}, {"sec", 1}}, "dev"),
      "2024-03-09 07:05:01");
  EXPECT_THROW(format_device_time({{"year", 2024}}, "dev"), PlugError);
}

TEST(DeviceModel, SysinfoMustBeThere) {
  EXPECT_THROW(sysinfo_of(json::object(), "dev"), PlugError);
  EXPECT_THROW(sysinfo_of({{"system", {{"get_sysinfo", 1}}}}, "dev"), PlugError);
}

}  // namespace
}  // namespace crossrig::plugctl
