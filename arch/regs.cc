#include "arch/regs.h"

#include <stdexcept>
#include <string>

namespace crossrig::arch {

Regs::Regs(const Arch& arch) : arch_(&arch), bytes_(regs_size(arch), 0) {}

const RegDesc& Regs::find(std::string_view name) const {
  for (const RegDesc& r : arch_->gp_regs) {
    if (r.name == name) return r;
  }
  throw std::out_of_range("arch " + std::string(arch_->name) + " has no register named " +
                          std::string(name));
}

std::uint64_t Regs::get(std::string_view name) const {
  const RegDesc& r = find(name);
  return load_uint(std::span(bytes_).subspan(r.offset, r.size), arch_->endian);
}

std::int64_t Regs::get_signed(std::string_view name) const {
  const RegDesc& r = find(name);
  std::uint64_t v = load_uint(std::span(bytes_).subspan(r.offset, r.size), arch_->endian);
  const unsigned shift = 64 - 8 * r.size;
  return static_cast<std::int64_t>(v << shift) >> shift;
}

void Regs::set(std::string_view name, std::uint64_t value) {
  const RegDesc& r = find(name);
  store_uint(std::span(bytes_).subspan(r.offset, r.size), value, arch_->endian);
}

void Regs::set_syscall(int nr, std::span<const std::uint64_t> args) {
  if (args.size() > arch_->args.size()) throw std::invalid_argument("more than 6 syscall args");
  if (!arch_->no_syscall.reg.empty()) set(arch_->no_syscall.reg, arch_->no_syscall.value);
  set(arch_->nr, static_cast<std::uint64_t>(nr));
  for (std::size_t i = 0; i < args.size(); ++i)
    set(arch_->args[i], args[i]);
}

std::int64_t Regs::syscall_ret() const {
  std::int64_t ret = get_signed(arch_->ret);
  const RegValue& flag = arch_->error_flag;
  if (!flag.reg.empty() && (get(flag.reg) & flag.value) != 0) return -ret;
  return ret;
}

std::size_t regs_size(const Arch& arch) {
  std::size_t n = 0;
  for (const Regset& r : arch.regsets)
    n += r.size;
  return n;
}

std::uint64_t load_uint(std::span<const std::uint8_t> bytes, Endian endian) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::size_t idx = endian == Endian::kBig ? i : bytes.size() - 1 - i;
    v = (v << 8) | bytes[idx];
  }
  return v;
}

void store_uint(std::span<std::uint8_t> bytes, std::uint64_t value, Endian endian) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::size_t idx = endian == Endian::kBig ? bytes.size() - 1 - i : i;
    bytes[idx] = static_cast<std::uint8_t>(value >> (8 * i));
  }
}

}  // namespace crossrig::arch
