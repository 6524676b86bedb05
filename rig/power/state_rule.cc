#include "rig/power/state_rule.h"

#include <regex>

namespace crossrig::rig {

namespace {

// Searched line by line so that ^ and $ anchor at each line, as grep users expect.
bool found(const std::string& pattern, std::string_view text) {
  std::regex re(pattern, std::regex::extended);
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (std::regex_search(line.begin(), line.end(), re)) return true;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return false;
}

std::string quoted_output(std::string_view output) {
  constexpr std::size_t kShown = 200;
  std::string shown(output.substr(0, kShown));
  while (!shown.empty() && (shown.back() == '\n' || shown.back() == '\r'))
    shown.pop_back();
  return "'" + shown + (output.size() > kShown ? "...'" : "'");
}

}  // namespace

StateReading read_state(const StateRule& rule, int exit_code, std::string_view output) {
  if (!rule.on_pattern && !rule.off_pattern) {
    if (exit_code == 0) return {true, ""};
    if (exit_code == 1) return {false, ""};
    return {std::nullopt, "the state command exited with " + std::to_string(exit_code) +
                              " (0 means on, 1 off; or set on_pattern/off_pattern)"};
  }
  if (exit_code != 0) {
    return {std::nullopt, "the state command exited with " + std::to_string(exit_code) +
                              " and printed " + quoted_output(output)};
  }
  if (rule.on_pattern && found(*rule.on_pattern, output)) return {true, ""};
  if (rule.off_pattern && found(*rule.off_pattern, output)) return {false, ""};
  if (!rule.off_pattern) return {false, ""};
  if (!rule.on_pattern) return {true, ""};
  return {std::nullopt, "the state command printed " + quoted_output(output) +
                            ", which matches neither on_pattern nor off_pattern"};
}

}  // namespace crossrig::rig
