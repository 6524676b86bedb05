#include "engine/ptrace_task.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"

namespace crossrig::engine {

void throw_errno(const std::string& what) {
  throw CkptError(CkptError::kSystem, what + ": " + std::strerror(errno));
}

namespace {

constexpr long kOptions =
    PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK;

long options(bool suspend_seccomp) {
  return kOptions | (suspend_seccomp ? PTRACE_O_SUSPEND_SECCOMP : 0);
}

void* no_addr() {
  return nullptr;
}
void* as_data(long v) {
  return reinterpret_cast<void*>(v);
}

// Waits for the next stop of tid; throws if it exits instead.
int wait_stop(pid_t tid, const std::string& what) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(tid, &status, __WALL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("waitpid " + std::to_string(tid) + " " + what);
    break;
  }
  if (WIFEXITED(status) || WIFSIGNALED(status))
    throw CkptError(CkptError::kSystem, "thread " + std::to_string(tid) + " died while " + what);
  return status;
}

}  // namespace

Tracee Tracee::seize(pid_t tid, bool suspend_seccomp) {
  const long opts = options(suspend_seccomp) & ~PTRACE_O_EXITKILL;
  if (::ptrace(PTRACE_SEIZE, tid, no_addr(), as_data(opts)) != 0)
    throw_errno("PTRACE_SEIZE of thread " + std::to_string(tid) +
                (suspend_seccomp ? " with its seccomp filters suspended (needs CAP_SYS_ADMIN, "
                                   "and ckpt itself must run without seccomp)"
                                 : "") +
                " (is it traced already, or gone?)");
  Tracee t(tid, opts);
  if (::ptrace(PTRACE_INTERRUPT, tid, no_addr(), no_addr()) != 0)
    throw_errno("PTRACE_INTERRUPT of thread " + std::to_string(tid));
  for (;;) {
    int status = wait_stop(tid, "being interrupted");
    if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP) {
      // A thread seized in a group stop reports that stop (with its signal) instead of the
      // interrupt's SIGTRAP.
      if (WSTOPSIG(status) != SIGTRAP) t.group_stop_ = WSTOPSIG(status);
      break;
    }
    // A signal arrived first: let it be delivered later by re-queueing it on resume.
    int sig = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
    if (::ptrace(PTRACE_CONT, tid, no_addr(), as_data(sig)) != 0)
      throw_errno("PTRACE_CONT of thread " + std::to_string(tid));
    if (::ptrace(PTRACE_INTERRUPT, tid, no_addr(), no_addr()) != 0)
      throw_errno("PTRACE_INTERRUPT of thread " + std::to_string(tid));
  }
  return t;
}

Tracee Tracee::adopt_stopped_child(pid_t tid, bool suspend_seccomp) {
  int status = wait_stop(tid, "starting");
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP)
    throw CkptError(CkptError::kSystem,
                    "restored child " + std::to_string(tid) + " did not stop as expected");
  if (::ptrace(PTRACE_SETOPTIONS, tid, no_addr(), as_data(options(suspend_seccomp))) != 0)
    throw_errno("PTRACE_SETOPTIONS on restored child " + std::to_string(tid));
  return Tracee(tid, options(suspend_seccomp));
}

Tracee::Tracee(Tracee&& other) noexcept
    : tid_(other.tid_),
      options_(other.options_),
      group_stop_(other.group_stop_),
      in_syscall_stop_(other.in_syscall_stop_),
      attached_(std::exchange(other.attached_, false)) {}

Tracee::~Tracee() {
  if (attached_ && ::ptrace(PTRACE_DETACH, tid_, no_addr(), no_addr()) != 0 && errno == ESRCH)
    reap_killed();
}

arch::Regs Tracee::get_regs() const {
  arch::Regs regs(arch::native_arch());
  std::span<std::uint8_t> rest = regs.bytes();
  for (const arch::Regset& rs : regs.arch().regsets) {
    // A kernel may fill less than asked (an older one with a shorter regset); the rest stays 0.
    iovec iov{rest.data(), rs.size};
    if (::ptrace(PTRACE_GETREGSET, tid_, as_data(rs.note), &iov) != 0) {
      throw_errno("reading registers (regset " + std::to_string(rs.note) + ") of thread " +
                  std::to_string(tid_));
    }
    rest = rest.subspan(rs.size);
  }
  return regs;
}

void Tracee::set_regs(const arch::Regs& regs) {
  std::span<const std::uint8_t> rest = regs.bytes();
  for (const arch::Regset& rs : regs.arch().regsets) {
    iovec iov{const_cast<std::uint8_t*>(rest.data()), rs.size};
    if (::ptrace(PTRACE_SETREGSET, tid_, as_data(rs.note), &iov) != 0) {
      throw_errno("writing registers (regset " + std::to_string(rs.note) + ") of thread " +
                  std::to_string(tid_));
    }
    rest = rest.subspan(rs.size);
  }
}

std::vector<std::uint8_t> Tracee::get_fp() const {
  std::vector<std::uint8_t> buf(64 * 1024);
  for (const arch::FpRegset& r : arch::native_arch().fp_regsets) {
    iovec iov{buf.data(), buf.size()};
    if (::ptrace(PTRACE_GETREGSET, tid_, as_data(r.note), &iov) == 0) {
      buf.resize(iov.iov_len);
      return buf;
    }
    if (errno != ENODEV) break;
  }
  throw_errno("reading FP registers of thread " + std::to_string(tid_));
}

std::optional<std::vector<std::uint8_t>> Tracee::get_regset(unsigned note) const {
  std::vector<std::uint8_t> buf(64 * 1024);
  iovec iov{buf.data(), buf.size()};
  if (::ptrace(PTRACE_GETREGSET, tid_, as_data(note), &iov) != 0) {
    // ENODEV: the CPU lacks the unit; EINVAL: the kernel has no such regset.
    if (errno == ENODEV || errno == EINVAL) return std::nullopt;
    throw_errno("reading regset " + std::to_string(note) + " of thread " + std::to_string(tid_));
  }
  buf.resize(iov.iov_len);
  return buf;
}

void Tracee::set_regset(unsigned note, std::span<const std::uint8_t> bytes,
                        const std::string& what) {
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  if (::ptrace(PTRACE_SETREGSET, tid_, as_data(note), &iov) != 0)
    throw_errno("writing " + what + " of thread " + std::to_string(tid_));
}

void Tracee::set_fp(std::span<const std::uint8_t> fp) {
  iovec iov{const_cast<std::uint8_t*>(fp.data()), fp.size()};
  unsigned note = arch::fp_regset_for(arch::native_arch(), fp.size()).note;
  if (::ptrace(PTRACE_SETREGSET, tid_, as_data(note), &iov) != 0)
    throw_errno("writing FP registers of thread " + std::to_string(tid_));
}

std::uint64_t Tracee::get_sigmask() const {
  std::uint64_t mask = 0;
  if (::ptrace(PTRACE_GETSIGMASK, tid_, as_data(sizeof mask), &mask) != 0)
    throw_errno("reading signal mask of thread " + std::to_string(tid_));
  return mask;
}

RseqConfig Tracee::get_rseq() const {
  // struct ptrace_rseq_configuration of linux/ptrace.h, which clashes with sys/ptrace.h.
  struct {
    std::uint64_t ptr;
    std::uint32_t size, signature, flags, pad;
  } conf{};
  if (::ptrace(static_cast<__ptrace_request>(PTRACE_GET_RSEQ_CONFIGURATION), tid_,
               as_data(sizeof conf), &conf) < 0)
    throw_errno("reading rseq registration of thread " + std::to_string(tid_));
  return {conf.ptr, conf.size, conf.signature};
}

std::vector<std::vector<std::uint8_t>> Tracee::peek_siginfo(bool shared) const {
  std::vector<std::vector<std::uint8_t>> out;
  for (;;) {
    __ptrace_peeksiginfo_args args{
        out.size(), shared ? static_cast<std::uint32_t>(PTRACE_PEEKSIGINFO_SHARED) : 0u, 1};
    siginfo_t info{};
    long n = ::ptrace(PTRACE_PEEKSIGINFO, tid_, &args, &info);
    if (n < 0) throw_errno("reading pending signals of thread " + std::to_string(tid_));
    if (n == 0) return out;
    auto* b = reinterpret_cast<const std::uint8_t*>(&info);
    out.emplace_back(b, b + sizeof info);
  }
}

std::vector<SeccompFilter> Tracee::seccomp_filters() const {
  // struct seccomp_metadata of linux/ptrace.h, which clashes with sys/ptrace.h.
  struct {
    std::uint64_t filter_off, flags;
  } meta{};
  std::vector<SeccompFilter> out;
  // Index 0 is the oldest filter (the kernel counts back from the newest by the chain's
  // length minus the index; ptrace(2) says otherwise) and ENOENT ends the chain.
  for (unsigned long i = 0;; ++i) {
    std::string what = "seccomp filter " + std::to_string(i) + " of thread " + std::to_string(tid_);
    long n = ::ptrace(PTRACE_SECCOMP_GET_FILTER, tid_, as_data(static_cast<long>(i)), nullptr);
    if (n < 0 && errno == ENOENT) break;
    if (n <= 0) throw_errno("reading " + what + " (needs CAP_SYS_ADMIN)");
    SeccompFilter f;
    f.insns.resize(static_cast<std::size_t>(n) * sizeof(sock_filter));
    if (::ptrace(PTRACE_SECCOMP_GET_FILTER, tid_, as_data(static_cast<long>(i)), f.insns.data()) !=
        n)
      throw_errno("reading " + what + " (it changed while read)");
    meta.filter_off = i;
    if (::ptrace(PTRACE_SECCOMP_GET_METADATA, tid_, as_data(sizeof meta), &meta) < 0)
      throw_errno("reading the flags of " + what);
    f.flags = meta.flags;
    out.push_back(std::move(f));
  }
  return out;
}

void Tracee::set_sigmask(std::uint64_t mask) {
  if (::ptrace(PTRACE_SETSIGMASK, tid_, as_data(sizeof mask), &mask) != 0)
    throw_errno("writing signal mask of thread " + std::to_string(tid_));
}

void Tracee::wait_syscall_stop(const char* which) {
  int status = wait_stop(tid_, std::string("running an injected syscall (") + which + ")");
  // A thread seized in a group stop traps once more in that stop when first resumed, before
  // it reaches the syscall; the registers set for it are untouched.
  while (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP) {
    if (::ptrace(PTRACE_SYSCALL, tid_, no_addr(), no_addr()) != 0)
      throw_errno("PTRACE_SYSCALL (entry, after a group stop) of thread " + std::to_string(tid_));
    status = wait_stop(tid_, std::string("running an injected syscall (") + which + ")");
  }
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80))
    throw CkptError(CkptError::kSystem, "thread " + std::to_string(tid_) + " stopped with signal " +
                                            std::to_string(WSTOPSIG(status)) +
                                            " instead of at the injected syscall's " + which);
}

std::int64_t Tracee::syscall(RemoteAddr insn, int nr, std::initializer_list<std::uint64_t> args) {
  syscall_start(insn, nr, args);
  return syscall_finish();
}

void Tracee::syscall_start(RemoteAddr insn, int nr, std::initializer_list<std::uint64_t> args) {
  arch::Regs regs = get_regs();
  const arch::Arch& a = regs.arch();
  regs.set(a.pc, insn.addr());
  regs.set_syscall(nr, std::span(args.begin(), args.size()));
  set_regs(regs);
  if (::ptrace(PTRACE_SYSCALL, tid_, no_addr(), no_addr()) != 0)
    throw_errno("PTRACE_SYSCALL (entry) of thread " + std::to_string(tid_));
  wait_syscall_stop("entry");
  if (::ptrace(PTRACE_SYSCALL, tid_, no_addr(), no_addr()) != 0)
    throw_errno("PTRACE_SYSCALL (exit) of thread " + std::to_string(tid_));
}

std::int64_t Tracee::syscall_finish() {
  wait_syscall_exit();
  return get_regs().syscall_ret();
}

void Tracee::wait_syscall_exit() {
  for (;;) {
    int status = wait_stop(tid_, "running an injected syscall (exit)");
    // A clone or fork reports the new task first; its syscall exit follows.
    if (WIFSTOPPED(status) &&
        ((status >> 16) == PTRACE_EVENT_CLONE || (status >> 16) == PTRACE_EVENT_FORK)) {
      if (::ptrace(PTRACE_SYSCALL, tid_, no_addr(), no_addr()) != 0)
        throw_errno("PTRACE_SYSCALL after clone of thread " + std::to_string(tid_));
      continue;
    }
    if (!WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80))
      throw CkptError(CkptError::kSystem, "thread " + std::to_string(tid_) +
                                              " stopped with signal " +
                                              std::to_string(WSTOPSIG(status)) +
                                              " instead of at the injected syscall's exit");
    in_syscall_stop_ = true;
    return;
  }
}

void Tracee::enter_signal_stop() {
  // PTRACE_INTERRUPT would be simpler, but only a seized thread takes it, and restored ones
  // are traced through PTRACE_TRACEME and fork/clone. A signal given to PTRACE_CONT at a
  // syscall stop is sent as the thread leaves the stop and reported before the thread returns
  // to user space. Real-time, since SIGSTOP would discard a pending SIGCONT and a standard
  // signal already pending would merge with it; the highest none is queued under, so the one
  // reported is ours.
  if (!in_syscall_stop_) return;
  std::vector<std::vector<std::uint8_t>> queued = peek_siginfo(false), shared = peek_siginfo(true);
  queued.insert(queued.end(), shared.begin(), shared.end());
  int sig = SIGRTMAX;
  for (; sig >= SIGRTMIN; --sig) {
    if (std::none_of(queued.begin(), queued.end(), [&](const std::vector<std::uint8_t>& info) {
          return reinterpret_cast<const siginfo_t*>(info.data())->si_signo == sig;
        }))
      break;
  }
  if (sig < SIGRTMIN)
    throw CkptError(CkptError::kUnsupported,
                    "thread " + std::to_string(tid_) +
                        " has every real-time signal queued, which leaves none to stop it with");
  const std::uint64_t mask = get_sigmask();
  set_sigmask(mask & ~(std::uint64_t{1} << (sig - 1)));
  if (::ptrace(PTRACE_CONT, tid_, no_addr(), as_data(sig)) != 0)
    throw_errno("PTRACE_CONT (to a signal stop) of thread " + std::to_string(tid_));
  int status = wait_stop(tid_, "leaving a syscall stop for a signal stop");
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != sig || (status >> 16) != 0)
    throw CkptError(CkptError::kSystem, "thread " + std::to_string(tid_) + " stopped with " +
                                            std::to_string(status) + " instead of at signal " +
                                            std::to_string(sig) + " sent to stop it");
  in_syscall_stop_ = false;
  set_sigmask(mask);
}

void Tracee::die_with_tracer(bool on) {
  const long opts = on ? options_ | PTRACE_O_EXITKILL : options_ & ~PTRACE_O_EXITKILL;
  if (::ptrace(PTRACE_SETOPTIONS, tid_, no_addr(), as_data(opts)) != 0)
    throw_errno("PTRACE_SETOPTIONS on thread " + std::to_string(tid_));
  options_ = opts;
}

void Tracee::detach() {
  if (!attached_) return;
  if (::ptrace(PTRACE_DETACH, tid_, no_addr(), no_addr()) != 0) {
    // A thread we hold leaves its stop only when killed, by someone else: it stays our tracee
    // (a zombie its parent cannot reap) until we hear of its death.
    if (errno != ESRCH) throw_errno("PTRACE_DETACH of thread " + std::to_string(tid_));
    reap_killed();
  }
  attached_ = false;
}

void Tracee::kill_process() {
  ::kill(tid_, SIGKILL);
  attached_ = false;
}

void Tracee::reap_killed() {
  // The tracer hears of a tracee's death first: until it has, the real parent cannot reap it
  // (and a process that lives on, as ckpt service does, would keep it a zombie). A tracer that
  // is the parent too would reap it for good here, which is the caller's to do.
  pid_t parent = 0;
  try {
    const std::string status = read_file("/proc/" + std::to_string(tid_) + "/status");
    const auto at = status.find("\nPPid:");
    if (at != std::string::npos) parent = static_cast<pid_t>(std::stol(status.substr(at + 7)));
  } catch (const std::exception&) {
    return;  // Gone already: reaped by someone.
  }
  if (parent == ::getpid()) return;
  while (::waitpid(tid_, nullptr, __WALL) < 0 && errno == EINTR) {
  }
}

void read_remote(pid_t pid, RemoteAddr addr, std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    iovec local{out.data() + done, out.size() - done};
    iovec remote{reinterpret_cast<void*>(addr.addr() + done), out.size() - done};
    ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) throw_errno("reading memory of process " + std::to_string(pid));
    done += static_cast<std::size_t>(n);
  }
}

void write_remote(pid_t pid, RemoteAddr addr, std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    iovec local{const_cast<std::uint8_t*>(bytes.data()) + done, bytes.size() - done};
    iovec remote{reinterpret_cast<void*>(addr.addr() + done), bytes.size() - done};
    ssize_t n = ::process_vm_writev(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) throw_errno("writing memory of process " + std::to_string(pid));
    done += static_cast<std::size_t>(n);
  }
}

std::int64_t inject_mmap(Tracee& t, RemoteAddr insn, const std::array<std::uint64_t, 6>& args,
                         RemoteAddr block) {
  const arch::Arch& a = arch::native_arch();
  const int nr = arch::syscall_nr(a, "mmap");
  if (!a.mmap_takes_block)
    return t.syscall(insn, nr, {args[0], args[1], args[2], args[3], args[4], args[5]});
  std::array<std::uint8_t, sizeof args> saved{};
  read_remote(t.tid(), block, saved);
  // The kernel reads the block as native words: injection only runs on the native arch.
  write_remote(t.tid(), block,
               std::span(reinterpret_cast<const std::uint8_t*>(args.data()), sizeof args));
  std::int64_t r = t.syscall(insn, nr, {block.addr()});
  write_remote(t.tid(), block, saved);
  return r;
}

std::string read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("opening " + path);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("reading " + path);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string read_trimmed(const std::string& path) {
  std::string s = read_file(path);
  s.erase(s.find_last_not_of(" \n") + 1);
  return s;
}

void write_file(const std::string& path, const std::string& text, const std::string& what) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw CkptError(CkptError::kSystem, what + " (" + path + "): " + std::strerror(errno));
}

}  // namespace crossrig::engine
