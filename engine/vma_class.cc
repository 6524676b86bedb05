#include "engine/vma_class.h"

namespace crossrig::engine {

bool is_kernel_special(const std::string& kind) {
  return kind == "vdso" || kind == "vvar" || kind == "vvar_vclock" || kind == "vsyscall";
}

VmaClass classify_vma(const MapsEntry& e) {
  const std::string& p = e.path;
  if (p == "[vdso]" || p == "[vvar]" || p == "[vvar_vclock]" || p == "[vsyscall]")
    return {p.substr(1, p.size() - 2), std::nullopt, std::nullopt};
  if (p == "[heap]") return {"heap", PageFilter::kPresent, std::nullopt};
  if (p == "[stack]") return {"stack", PageFilter::kPresent, std::nullopt};
  if (p.empty() || p.starts_with("[anon:")) return {"anon", PageFilter::kPresent, std::nullopt};
  // MAP_SHARED|MAP_ANONYMOUS memory is a deleted shmem file named /dev/zero.
  if (e.shared && p.starts_with("/dev/zero (deleted)"))
    return {"anon", PageFilter::kPresent, std::nullopt};
  if (p.starts_with("["))
    return {"special", std::nullopt, "kernel mapping " + p + " is not supported"};
  // Its inode number is the segment's id; the content is the segment's, restored with it.
  if (p.starts_with("/SYSV") && p.ends_with(" (deleted)"))
    return {"sysv", std::nullopt, std::nullopt};
  // A memfd or a file removed from every directory (the dump checks no name is left): its
  // inode comes back with its content, shared by every mapping and fd of it.
  if (p.ends_with(" (deleted)"))
    return {"unlinked", e.shared ? std::nullopt : std::optional(PageFilter::kAnonOnly),
            std::nullopt};
  if (e.shared) return {"file", std::nullopt, std::nullopt};
  return {"file", PageFilter::kAnonOnly, std::nullopt};
}

}  // namespace crossrig::engine
