#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crossrig::rig::lava {

/// text as a Jinja2 string literal: in the quote it holds fewer of, that quote and backslashes
/// escaped.
std::string jinja_string(std::string_view text);

/// text as one YAML scalar on one line (plain when YAML reads it back unchanged, else
/// double-quoted), for a value a LAVA template pastes after `key: `.
std::string yaml_scalar(std::string_view text);

/// items as a one-line YAML flow sequence, for a list a LAVA template pastes after `key: `.
std::string yaml_flow_list(const std::vector<std::string>& items);

/// word as one argument of a command LAVA splits with Python's shlex (POSIX rules, no shell):
/// as it is when it holds no special character, else single-quoted.
std::string command_word(std::string_view word);

}  // namespace crossrig::rig::lava
