#include "rig/lava/lava_text.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "rig/inventory/board_fields.h"

namespace crossrig::rig::lava {

std::string jinja_string(std::string_view text) {
  // The quote the text holds fewer of, so that a shell command stays readable.
  char quote =
      std::count(text.begin(), text.end(), '\'') > std::count(text.begin(), text.end(), '"') ? '"'
                                                                                             : '\'';
  std::string out(1, quote);
  for (char c : text) {
    if (c == '\\' || c == quote) out += '\\';
    out += c;
  }
  return out + quote;
}

std::string yaml_scalar(std::string_view text) {
  YAML::Emitter out;
  out << std::string(text);
  return out.c_str();
}

std::string yaml_flow_list(const std::vector<std::string>& items) {
  YAML::Emitter out;
  // Double quotes always: a plain scalar in a flow sequence may not hold ',' or brackets.
  out << YAML::Flow << YAML::BeginSeq;
  for (const auto& item : items)
    out << YAML::DoubleQuoted << item;
  out << YAML::EndSeq;
  return out.c_str();
}

std::string command_word(std::string_view word) {
  auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  };
  if (!word.empty() && std::all_of(word.begin(), word.end(), plain)) return std::string(word);
  return shell_quote(word);
}

}  // namespace crossrig::rig::lava
