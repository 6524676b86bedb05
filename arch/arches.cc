#include <stdexcept>
#include <string>

#include "arch/arch.h"

namespace crossrig::arch {

extern const Arch kX86_64, kAarch64, kPpc64, kPpc64le, kS390x;

namespace {
// Adding an arch: copy arch/x86_64/, fill it in, and list it here.
const Arch* const kAll[] = {&kX86_64, &kAarch64, &kPpc64, &kPpc64le, &kS390x};
}  // namespace

std::span<const Arch* const> all_arches() {
  return kAll;
}

const Arch* find_arch(std::string_view name) {
  for (const Arch* a : kAll) {
    if (a->name == name) return a;
  }
  return nullptr;
}

int syscall_nr(const Arch& arch, std::string_view name) {
  for (const SyscallEntry& e : arch.syscalls) {
    if (e.name == name) return e.nr;
  }
  throw std::runtime_error("arch " + std::string(arch.name) + " has no syscall named " +
                           std::string(name));
}

}  // namespace crossrig::arch
