#include "rig/matrix/build_output.h"

#include <nlohmann/json.hpp>

namespace crossrig::rig::matrix {
namespace {

std::string text_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<BuiltFiles> files_of(const nlohmann::json& manifest) {
  BuiltFiles f{text_of(manifest, "kernel"), text_of(manifest, "ramdisk"),
               text_of(manifest, "kernel_release"), text_of(manifest, "source")};
  if (f.kernel.empty() || f.ramdisk.empty()) return std::nullopt;
  return f;
}

}  // namespace

std::optional<BuiltFiles> parse_build_output(std::string_view out, const std::string& arch) {
  const auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_object()) return files_of(j);
  if (!j.is_array()) return std::nullopt;
  for (const auto& m : j) {
    if (m.is_object() && text_of(m, "arch") == arch) return files_of(m);
  }
  if (j.size() == 1 && j[0].is_object() && text_of(j[0], "arch").empty()) return files_of(j[0]);
  return std::nullopt;
}

std::string build_command_for(std::string command, const std::string& arch) {
  static constexpr std::string_view kPlaceholder = "{arch}";
  for (auto at = command.find(kPlaceholder); at != std::string::npos;
       at = command.find(kPlaceholder, at + arch.size())) {
    command.replace(at, kPlaceholder.size(), arch);
  }
  return command;
}

}  // namespace crossrig::rig::matrix
