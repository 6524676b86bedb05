#include "rig/lab/manifest.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "rig/inventory/vocabulary.h"

namespace crossrig::rig::lab {

std::string cache_root(const std::optional<std::string>& xdg_cache_home,
                       const std::optional<std::string>& home) {
  if (xdg_cache_home && !xdg_cache_home->empty()) return *xdg_cache_home + "/crossrig";
  return home.value_or("") + "/.cache/crossrig";
}

std::string manifest_path(const std::string& cache_root, Arch arch) {
  return cache_root + "/lab/" + std::string(arch_name(arch)) + "/manifest.json";
}

Manifest parse_manifest(const std::string& text, const std::string& origin) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) throw std::runtime_error(origin + ": not a JSON object");
  auto field = [&](const char* key, bool required) -> std::string {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      if (!required) return "";
      throw std::runtime_error(origin + ": \"" + key + "\" is missing or not a string");
    }
    return it->get<std::string>();
  };
  Manifest m{field("arch", true),           field("kernel", true),
             field("ramdisk", true),        field("kernel_release", false),
             field("kernel_format", false), field("source", false)};
  for (const auto* path : {&m.kernel, &m.ramdisk}) {
    if (!std::filesystem::path(*path).is_absolute()) {
      throw std::runtime_error(origin + ": " + *path + " is not an absolute path");
    }
  }
  return m;
}

namespace {

std::runtime_error missing_file(const std::string& manifest, const std::string& file,
                                const std::string& arch) {
  return std::runtime_error(manifest + " names " + file +
                            ", which is missing: run toolchains/lab-images " + arch + " again");
}

}  // namespace

Manifest load_manifest(const std::string& cache_root, Arch arch) {
  std::string path = manifest_path(cache_root, arch);
  std::string arch_text(arch_name(arch));
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("no boot files for " + arch_text + " (" + path +
                             " is missing): run toolchains/lab-images " + arch_text + " first");
  }
  std::stringstream text;
  text << in.rdbuf();
  Manifest m = parse_manifest(text.str(), path);
  if (m.arch != arch_text) throw std::runtime_error(path + ": its arch is " + m.arch);
  for (const auto* file : {&m.kernel, &m.ramdisk}) {
    if (!std::filesystem::is_regular_file(*file)) throw missing_file(path, *file, arch_text);
  }
  return m;
}

}  // namespace crossrig::rig::lab
