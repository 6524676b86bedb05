#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace crossrig::arch {

class Regs;

/// Byte order of a machine's registers and memory.
enum class Endian { kLittle, kBig };

/// One register inside the general-purpose regset: where it sits and how wide it is.
struct RegDesc {
  std::string_view name;
  std::uint32_t offset;
  std::uint32_t size;
};

/// One system call of the arch's table, generated from the kernel headers.
struct SyscallEntry {
  std::string_view name;
  int nr;
};

/// How a syscall interrupted at dump time must continue once the task runs again.
enum class RestartTarget {
  kSameTask,  ///< The dumped task keeps running: its kernel restart block is still valid.
  kNewTask,   ///< A restored task: kernel-side restart state is gone.
};

/// Everything engine/ knows about a CPU architecture. One instance per arch, as data.
struct Arch {
  std::string_view name;  ///< uname -m spelling: "x86_64", "aarch64", ...
  Endian endian;
  std::size_t page_size;
  std::span<const std::uint8_t> syscall_insn;  ///< Bytes of one syscall instruction.
  std::size_t insn_align;                      ///< Alignment an instruction needs.
  std::span<const RegDesc> gp_regs;            ///< Layout of the NT_PRSTATUS regset.
  std::size_t gp_size;                         ///< Size of the NT_PRSTATUS regset.
  unsigned fp_note;                            ///< ELF note type of the FP/vector regset.
  std::string_view pc, sp, nr, orig_nr, ret;   ///< Register names of the syscall ABI.
  std::array<std::string_view, 6> args;
  std::string_view tls;  ///< Register holding the thread pointer (fs_base, tpidr, ...).
  std::span<const SyscallEntry> syscalls;  ///< Empty when this host cannot inject for it.
  /// Turns registers stopped in an interrupted syscall into the ones the task must resume
  /// with, the way the kernel would restart it.
  void (*restart_fixup)(Regs& regs, RestartTarget target);
  /// Why an FP regset dumped on one CPU cannot be loaded on this CPU; nullopt if it can.
  std::optional<std::string> (*fp_incompatibility)(std::span<const std::uint8_t> image_fp,
                                                   std::span<const std::uint8_t> host_fp);
};

/// The arch with this name, or nullptr if crossrig has no table for it.
const Arch* find_arch(std::string_view name);

/// Every arch crossrig can decode images of.
std::span<const Arch* const> all_arches();

/// The arch this binary runs on (the only one it can inject syscalls into).
const Arch& native_arch();

/// Number of the named syscall on this arch; throws std::runtime_error if it has none.
int syscall_nr(const Arch& arch, std::string_view name);

}  // namespace crossrig::arch
