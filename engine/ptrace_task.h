#pragma once
// The thin I/O shell around ptrace: one stopped thread, its registers, and syscalls run
// inside it.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "arch/regs.h"
#include "engine/remote_ptr.h"
#include "engine/seccomp.h"

namespace crossrig::engine {

/// A thread's restartable-sequences registration (address 0 when none).
struct RseqConfig {
  std::uint64_t ptr = 0;
  std::uint32_t size = 0, signature = 0;
};

/// A thread held stopped under ptrace; detaches (leaving it running) when destroyed.
class Tracee {
 public:
  /// Seizes tid and interrupts it; throws if it cannot be traced or dies meanwhile.
  /// suspend_seccomp: the thread's seccomp filters do not apply to the syscalls injected
  /// while it is held (PTRACE_O_SUSPEND_SECCOMP, needs CAP_SYS_ADMIN).
  static Tracee seize(pid_t tid, bool suspend_seccomp = false);
  /// Takes over a child that called PTRACE_TRACEME and stopped itself with SIGSTOP.
  static Tracee adopt_stopped_child(pid_t tid, bool suspend_seccomp = false);

  Tracee(Tracee&& other) noexcept;
  Tracee& operator=(Tracee&&) = delete;
  ~Tracee();

  pid_t tid() const { return tid_; }
  /// The signal of the group stop (job control stop) the thread was in when seized, or 0.
  /// It stays stopped when detached, until a SIGCONT.
  int group_stop_signal() const { return group_stop_; }
  arch::Regs get_regs() const;
  void set_regs(const arch::Regs& regs);
  /// The FP/vector regset (xsave on x86_64) as raw bytes.
  std::vector<std::uint8_t> get_fp() const;
  void set_fp(std::span<const std::uint8_t> fp);
  /// The regset of ELF note type note, or nullopt when this CPU or kernel has none.
  std::optional<std::vector<std::uint8_t>> get_regset(unsigned note) const;
  void set_regset(unsigned note, std::span<const std::uint8_t> bytes, const std::string& what);
  std::uint64_t get_sigmask() const;
  RseqConfig get_rseq() const;
  /// The siginfo of every queued signal, thread-directed or (shared) process-wide, in order.
  std::vector<std::vector<std::uint8_t>> peek_siginfo(bool shared) const;
  void set_sigmask(std::uint64_t mask);
  /// The thread's seccomp filters, oldest first (it must be in filter mode).
  std::vector<SeccompFilter> seccomp_filters() const;

  /// Runs one syscall inside the thread from the syscall instruction at insn, leaving the
  /// registers as the syscall left them; returns the raw return value (-errno on failure).
  std::int64_t syscall(RemoteAddr insn, int nr, std::initializer_list<std::uint64_t> args);
  /// The first half of syscall(): the thread is inside the syscall when this returns, so the
  /// caller can work while it runs; syscall_finish() waits for its result.
  void syscall_start(RemoteAddr insn, int nr, std::initializer_list<std::uint64_t> args);
  /// Waits for the syscall started by syscall_start() and returns its raw return value.
  std::int64_t syscall_finish();

  /// Moves the thread from the exit stop of an injected syscall to a signal-delivery stop on its
  /// way back to user space, before it runs any code of its own: there every register written
  /// is kept, where leaving a syscall stop may put one back (Arch::syscall_stop_clobbers). The
  /// signal, a real-time one none waits under, is dropped when the thread is let go. Does
  /// nothing for a thread held in another stop, which keeps what is written already.
  void enter_signal_stop();

  /// Whether the thread is killed if ckpt dies while it is held (PTRACE_O_EXITKILL), which
  /// seize() leaves off so that a dumped process outlives a killed dump.
  void die_with_tracer(bool on);
  /// Lets the thread run again (with its current registers). One killed meanwhile is left to
  /// its parent to reap, as the destructor does.
  void detach();
  /// Kills the whole process and reaps nothing (the parent reaps).
  void kill_process();
  /// After kill_process(): waits until this tracer has heard of the thread's death, so that
  /// its parent can reap it (unless the parent is this process, which reaps it itself).
  void reap_killed();

 private:
  Tracee(pid_t tid, long options) : tid_(tid), options_(options) {}
  void wait_syscall_stop(const char* which);
  void wait_syscall_exit();

  pid_t tid_ = -1;
  long options_ = 0;
  int group_stop_ = 0;
  /// Held in the exit stop of an injected syscall (else in a stop that keeps every register).
  bool in_syscall_stop_ = false;
  bool attached_ = true;
};

/// Reads len bytes at addr of process pid into out; throws on a short read.
void read_remote(pid_t pid, RemoteAddr addr, std::span<std::uint8_t> out);

/// Injects mmap with these arguments into t at insn. Where the arch takes them in memory
/// (Arch::mmap_takes_block) they are written at block, 48 bytes of the task's writable memory,
/// whose contents are put back after the call.
std::int64_t inject_mmap(Tracee& t, RemoteAddr insn, const std::array<std::uint64_t, 6>& args,
                         RemoteAddr block);
/// Writes bytes at addr of process pid; throws on a short write.
void write_remote(pid_t pid, RemoteAddr addr, std::span<const std::uint8_t> bytes);

/// Reads a whole (proc) file; throws naming the file.
std::string read_file(const std::string& path);
/// A (proc, sysfs) file's text without its trailing newlines and spaces.
std::string read_trimmed(const std::string& path);
/// Writes text into a (proc, sysfs, cgroup) file in one write; throws kSystem naming what
/// was being done and the file.
void write_file(const std::string& path, const std::string& text, const std::string& what);

}  // namespace crossrig::engine
