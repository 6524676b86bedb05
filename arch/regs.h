#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "arch/arch.h"

namespace crossrig::arch {

/// A general-purpose register set of any arch, read and written by register name.
class Regs {
 public:
  /// A zeroed register set of this arch.
  explicit Regs(const Arch& arch);

  const Arch& arch() const { return *arch_; }
  /// The arch's regsets back to back, each as PTRACE_GETREGSET sees it.
  std::span<std::uint8_t> bytes() { return bytes_; }
  std::span<const std::uint8_t> bytes() const { return bytes_; }

  /// Value of the named register; throws std::out_of_range on an unknown name.
  std::uint64_t get(std::string_view name) const;
  /// Value of the named register sign-extended from its width.
  std::int64_t get_signed(std::string_view name) const;
  /// Sets the named register; throws std::out_of_range on an unknown name.
  void set(std::string_view name, std::uint64_t value);

  std::uint64_t pc() const { return get(arch_->pc); }
  std::uint64_t sp() const { return get(arch_->sp); }
  /// Return value of the last syscall: the result, or -errno on failure, on every arch.
  std::int64_t syscall_ret() const;
  /// Loads a syscall number and its arguments into the ABI registers, and tells the kernel
  /// the task is in no syscall it would restart (Arch::no_syscall).
  void set_syscall(int nr, std::span<const std::uint64_t> args);

 private:
  const RegDesc& find(std::string_view name) const;

  const Arch* arch_;
  std::vector<std::uint8_t> bytes_;
};

/// Reads an unsigned integer of 1..8 bytes stored in the given byte order.
std::uint64_t load_uint(std::span<const std::uint8_t> bytes, Endian endian);
/// Stores the low bytes.size() bytes of value in the given byte order.
void store_uint(std::span<std::uint8_t> bytes, std::uint64_t value, Endian endian);

}  // namespace crossrig::arch
