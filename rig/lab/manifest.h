#pragma once

#include <optional>
#include <string>

#include "rig/inventory/board.h"

namespace crossrig::rig::lab {

/// What toolchains/lab-images made for one arch (see prompts' lab contract and toolchains/):
/// the kernel in the form the arch's firmware loads and the ramdisk, as absolute paths.
struct Manifest {
  std::string arch, kernel, ramdisk, kernel_release, kernel_format, source;
};

/// ${XDG_CACHE_HOME:-$HOME/.cache}/crossrig, from those two variables' values.
std::string cache_root(const std::optional<std::string>& xdg_cache_home,
                       const std::optional<std::string>& home);

/// CACHE/lab/ARCH/manifest.json.
std::string manifest_path(const std::string& cache_root, Arch arch);

/// Parses a manifest's JSON; throws std::runtime_error naming origin and the missing or wrong
/// field.
Manifest parse_manifest(const std::string& text, const std::string& origin);

/// Reads the arch's manifest under cache_root; a missing one is a std::runtime_error saying to
/// run toolchains/lab-images ARCH, since the lab never builds images itself.
Manifest load_manifest(const std::string& cache_root, Arch arch);

}  // namespace crossrig::rig::lab
