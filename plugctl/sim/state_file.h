#pragma once

#include <map>
#include <string>
#include <vector>

namespace crossrig::plugsim {

/// Relay states by device name, outlets in order: what --state-file keeps across restarts.
using RelayStates = std::map<std::string, std::vector<bool>>;

/// The states in a state file; empty when the file does not exist yet. Throws
/// std::runtime_error naming the file when it exists but cannot be read or parsed.
RelayStates load_state_file(const std::string& path);

/// Replaces the state file atomically (a temporary file beside it, fsync, rename), so a crash
/// leaves either the old or the new states. Throws std::runtime_error naming the file.
void save_state_file(const std::string& path, const RelayStates& states);

}  // namespace crossrig::plugsim
