#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crossrig::rig {

/// How the command driver tells on from off in what its state command did.
struct StateRule {
  /// Extended regular expressions searched in each line of the output; without either, the exit
  /// code decides (0 on, 1 off).
  std::optional<std::string> on_pattern, off_pattern;
};

/// On or off as the rule reads the state command's exit code and output, or the reason it
/// cannot tell (as text for the error message).
struct StateReading {
  std::optional<bool> on;
  std::string problem;
};

/// With patterns: the command must exit 0; on_pattern matching means on, off_pattern matching
/// means off (on_pattern is tried first); with one pattern, not matching it means the other
/// state; with both, matching neither is a problem. Without patterns: exit 0 on, 1 off, any
/// other code a problem.
StateReading read_state(const StateRule& rule, int exit_code, std::string_view output);

}  // namespace crossrig::rig
