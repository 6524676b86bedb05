#pragma once

#include <optional>
#include <string>

#include "engine/pagemap.h"
#include "engine/proc_parse.h"

namespace crossrig::engine {

/// How the engine treats one mapping: its image kind and which of its pages it dumps.
struct VmaClass {
  std::string kind;                    ///< "anon", "stack", "heap", "file", "vdso", "vvar", ...
  std::optional<PageFilter> pages;     ///< nullopt: no page contents in the image.
  std::optional<std::string> refusal;  ///< Set when the engine cannot checkpoint this mapping.
};

/// Classifies a mapping from its maps line.
VmaClass classify_vma(const MapsEntry& e);

/// True for mappings the kernel provides to every process (vdso, vvar, vsyscall).
bool is_kernel_special(const std::string& kind);

}  // namespace crossrig::engine
