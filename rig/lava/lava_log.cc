#include "rig/lava/lava_log.h"

#include <yaml-cpp/yaml.h>

#include <sstream>
#include <string_view>

#include "common/utc_time.h"

namespace crossrig::rig::lava {
namespace {

std::optional<double> between(std::optional<double> from, std::optional<double> to) {
  if (!from || !to || *to < *from) return std::nullopt;
  return *to - *from;
}

// A scalar of a results entry; LAVA's logger writes Python's None as the tagged string
// `! "null"`, which yaml-cpp reads as the text "null".
std::string scalar(const YAML::Node& node) {
  if (!node || !node.IsScalar() || node.Scalar() == "null") return "";
  return node.Scalar();
}

// The LAVA actions whose end means the board was just switched on.
bool powers_on(std::string_view name) {
  return name == "pdu-reboot" || name == "power-on" || name == "reset-device";
}

}  // namespace

LavaLog parse_lava_log(const std::string& text) {
  LavaLog log;
  std::optional<double> powered, banner, start, end;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("- {")) continue;
    YAML::Node entry;
    try {
      entry = YAML::Load(line.substr(2));
    } catch (const YAML::Exception&) {
      continue;
    }
    if (!entry.IsMap()) continue;
    const std::string lvl = scalar(entry["lvl"]);
    const YAML::Node msg = entry["msg"];
    if (lvl == "target" && msg && msg.IsScalar()) {
      const std::string& said = msg.Scalar();
      log.console += said + '\n';
      const auto at = parse_utc(scalar(entry["dt"]));
      if (!banner && said.find("Linux version ") != std::string::npos) banner = at;
      if (!start && said.find("<LAVA_SIGNAL_STARTRUN") != std::string::npos) start = at;
      if (said.find("<LAVA_SIGNAL_ENDRUN") != std::string::npos) end = at;
    } else if (lvl == "results" && msg && msg.IsMap()) {
      const std::string suite = scalar(msg["definition"]), name = scalar(msg["case"]);
      if (suite == "lava" && powers_on(name)) {
        // A retried boot powers on again: time the last attempt, as rig run does.
        powered = parse_utc(scalar(entry["dt"]));
        banner = start = end = std::nullopt;
      }
      if (suite == "lava" && name == "job") {
        const std::string type = scalar(msg["error_type"]), why = scalar(msg["error_msg"]);
        log.job_error = type.empty() || why.empty() ? type + why : type + ": " + why;
      }
      const YAML::Node extra = msg["extra"];
      if (extra && extra.IsMap()) {
        const std::string id = scalar(extra["test_case_id"]);
        if (!id.empty()) log.test_case_ids[{suite, name}] = id;
      }
    }
  }
  log.firmware_s = between(powered, banner);
  log.kernel_s = between(banner, start);
  log.job_s = between(start, end);
  return log;
}

}  // namespace crossrig::rig::lava
