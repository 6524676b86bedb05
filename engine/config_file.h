#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crossrig::engine {

/// Turns a CRIU-style configuration file (one option per line, "name [value]", '#' comments)
/// into command-line tokens ("--name", "value").
std::vector<std::string> config_to_args(std::string_view text);

}  // namespace crossrig::engine
