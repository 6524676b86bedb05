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

/// A regset of named registers as PTRACE_GETREGSET sees it: ELF note type and size in bytes.
struct Regset {
  unsigned note;
  std::uint32_t size;
};

/// A register and a value for it.
struct RegValue {
  std::string_view reg;  ///< Empty: the arch has no such register.
  std::uint64_t value;
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

/// An FP/vector regset: its ELF note type and size in bytes (0: it varies with the CPU).
struct FpRegset {
  unsigned note;
  std::size_t size;
};

/// A vector regset saved beside the FP one: its ELF note type and its name in images.
struct VectorRegset {
  unsigned note;
  std::string_view name;
};

/// Everything engine/ knows about a CPU architecture. One instance per arch, as data.
struct Arch {
  std::string_view name;  ///< uname -m spelling: "x86_64", "aarch64", ...
  Endian endian;
  std::size_t page_size;  ///< The page size of the kernels crossrig runs on for this arch.
  std::span<const std::uint8_t> syscall_insn;  ///< Bytes of one syscall instruction.
  std::size_t insn_align;                      ///< Alignment an instruction needs.
  /// Regsets holding gp_regs, laid back to back in Regs::bytes(); NT_PRSTATUS first. Others
  /// hold what NT_PRSTATUS lacks (aarch64's syscall number and thread pointer).
  std::span<const Regset> regsets;
  std::span<const RegDesc> gp_regs;  ///< Named registers, offsets into those regsets.
  /// FP/vector regsets, preferred first. A thread's FP state is read from the first one the
  /// kernel offers (it answers ENODEV for one the CPU lacks: x86_64's XSAVE area on CPUs without
  /// XSAVE) and written back through fp_regset_for() its size.
  std::span<const FpRegset> fp_regsets;
  /// Vector registers the FP regset lacks, each saved when the kernel offers its regset (a CPU
  /// without the unit has none): ppc64's VMX and VSX halves, s390x's vector registers.
  std::span<const VectorRegset> vector_regsets;
  std::string_view pc, sp, nr, ret;  ///< Register names of the syscall ABI.
  std::array<std::string_view, 6> args;
  /// Written before a syscall is injected: the kernel then takes the task for one in no
  /// syscall and restarts nothing on its way back to user space (x86_64 orig_rax = -1).
  RegValue no_syscall;
  /// When (reg & value) != 0 after a syscall, ret holds a positive errno (ppc64's CR0.SO);
  /// with no reg, ret holds -errno on failure.
  RegValue error_flag;
  /// Registers holding the thread pointer, high half first where it takes two (s390x).
  std::span<const std::string_view> tls;
  std::span<const SyscallEntry> syscalls;  ///< Generated from the kernel's table.
  /// mmap reads its six arguments from a block of words in memory whose address is its one
  /// argument (s390x's sys_old_mmap).
  bool mmap_takes_block;
  /// A register the kernel puts back as it leaves a syscall stop, so that what a tracer writes
  /// to it there is lost (arm64's x7, which tells syscall entry from exit during the stop); empty
  /// where the kernel keeps every write. Registers a task must resume with are written outside
  /// syscall stops where an arch names one.
  std::string_view syscall_stop_clobbers;
  /// Turns registers stopped in an interrupted syscall into the ones the task must resume
  /// with, the way the kernel would restart it when no handler runs.
  void (*restart_fixup)(Regs& regs, RestartTarget target);
  /// Why an FP regset dumped on one CPU cannot be loaded on this CPU; nullopt if it can.
  std::optional<std::string> (*fp_incompatibility)(std::span<const std::uint8_t> image_fp,
                                                   std::span<const std::uint8_t> host_fp);
};

/// The regset FP state of this many bytes was read from: the one of exactly that fixed size,
/// else the first whose size varies, else the first.
const FpRegset& fp_regset_for(const Arch& arch, std::size_t bytes);

/// Bytes of all the arch's regsets together (the size of Regs::bytes()).
std::size_t regs_size(const Arch& arch);

/// fp_incompatibility of arches whose FP regset has a fixed layout: only the size can differ.
std::optional<std::string> fp_size_differs(std::span<const std::uint8_t> image_fp,
                                           std::span<const std::uint8_t> host_fp);

/// The arch with this name, or nullptr if crossrig has no table for it.
const Arch* find_arch(std::string_view name);

/// Every arch crossrig can decode images of.
std::span<const Arch* const> all_arches();

/// The arch this binary runs on (the only one it can inject syscalls into).
const Arch& native_arch();

/// Number of the named syscall on this arch; throws std::runtime_error if it has none.
int syscall_nr(const Arch& arch, std::string_view name);

}  // namespace crossrig::arch
