#include "engine/config_file.h"

namespace crossrig::engine {

std::vector<std::string> config_to_args(std::string_view text) {
  std::vector<std::string> args;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (std::size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    std::size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) continue;
    line = line.substr(b);
    line = line.substr(0, line.find_last_not_of(" \t\r") + 1);
    std::size_t sp = line.find_first_of(" \t=");
    std::string_view name = line.substr(0, sp);
    while (name.starts_with("-"))
      name.remove_prefix(1);
    args.push_back("--" + std::string(name));
    if (sp != std::string_view::npos) {
      std::string_view value = line.substr(sp + 1);
      std::size_t vb = value.find_first_not_of(" \t=");
      if (vb != std::string_view::npos) args.emplace_back(value.substr(vb));
    }
  }
  return args;
}

}  // namespace crossrig::engine
