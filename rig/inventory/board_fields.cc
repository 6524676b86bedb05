#include "rig/inventory/board_fields.h"

#include "rig/inventory/vocabulary.h"

namespace crossrig::rig {

std::map<std::string, std::string> board_fields(const Board& board) {
  std::map<std::string, std::string> fields{
      {"name", board.name},
      {"arch", std::string(arch_name(board.arch))},
      {"boot", std::string(boot_method_name(board.boot))},
  };
  for (const auto& [key, member] : kOptionalFields) {
    if (const auto& value = board.*member) fields[key] = *value;
  }
  for (const char* key : {"address", "outlet"}) {
    auto it = board.power.settings.find(key);
    if (it != board.power.settings.end()) fields[key] = it->second;
  }
  return fields;
}

std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::variant<std::string, std::string> expand_command(
    std::string_view pattern, const std::map<std::string, std::string>& fields) {
  using Result = std::variant<std::string, std::string>;
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if ((c == '{' || c == '}') && i + 1 < pattern.size() && pattern[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '}') return Result(std::in_place_index<1>, "a '}' without its '{' (write '}}')");
    if (c != '{') {
      out += c;
      continue;
    }
    auto close = pattern.find('}', i + 1);
    if (close == std::string_view::npos) {
      return Result(std::in_place_index<1>, "a '{' without its '}' (write '{{')");
    }
    std::string key(pattern.substr(i + 1, close - i - 1));
    auto it = fields.find(key);
    if (it == fields.end()) {
      std::string known;
      for (const auto& [k, v] : fields)
        known += (known.empty() ? "" : ", ") + k;
      std::string problem = "'{" + key + "}' names no field this board has (it has ";
      problem.append(known).append(")");
      return Result(std::in_place_index<1>, problem);
    }
    out += shell_quote(it->second);
    i = close;
  }
  return Result(std::in_place_index<0>, out);
}

}  // namespace crossrig::rig
