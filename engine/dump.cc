#include "engine/dump.h"

#include <endian.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "common/hex.h"
#include "common/unique_fd.h"
#include "engine/action_scripts.h"
#include "engine/caller_fd.h"
#include "engine/cgroup_tree.h"
#include "engine/ckpt_error.h"
#include "engine/fd_passing.h"
#include "engine/file_table.h"
#include "engine/image.h"
#include "engine/image_transfer.h"
#include "engine/lazy_restore.h"
#include "engine/mount_namespace.h"
#include "engine/namespaces.h"
#include "engine/net_namespace.h"
#include "engine/pagemap.h"
#include "engine/phase.h"
#include "engine/process_tree.h"
#include "engine/ptrace_task.h"
#include "engine/seccomp.h"
#include "engine/spu.h"
#include "engine/sysv_ipc.h"
#include "engine/task_info.h"
#include "engine/terminal.h"
#include "engine/timers.h"
#include "engine/vma_class.h"

namespace crossrig::engine {
namespace {

// Bytes read from the task per process_vm_readv call: large enough that syscall cost vanishes,
// small enough that the buffer is still in cache when it is hashed and written (bench-ckpt:
// 1.33-1.57x dd against 1.47-1.74x with 4 MiB chunks, paired runs on a loaded machine).
constexpr std::size_t kChunk = 512 << 10;

// Finds an existing syscall instruction in the task's executable memory, so injection
// changes nothing in the task: the vdso first (small), then every other r-x mapping.
RemoteAddr find_syscall_insn(pid_t pid, const std::vector<MapsEntry>& maps) {
  const arch::Arch& a = arch::native_arch();
  auto insn = a.syscall_insn;
  std::vector<std::uint8_t> buf;
  for (int pass = 0; pass < 2; ++pass) {
    for (const MapsEntry& e : maps) {
      if (!e.exec || !e.read || (e.path == "[vdso]") != (pass == 0)) continue;
      for (std::uint64_t at = e.start; at < e.end; at += kChunk) {
        std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, e.end - at));
        buf.resize(len);
        iovec local{buf.data(), len}, remote{reinterpret_cast<void*>(at), len};
        if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(len)) break;
        for (std::size_t i = 0; i + insn.size() <= len; i += a.insn_align) {
          if (std::memcmp(buf.data() + i, insn.data(), insn.size()) == 0) return RemoteAddr(at + i);
        }
      }
    }
  }
  throw CkptError(CkptError::kUnsupported, "process " + std::to_string(pid) +
                                               " has no syscall instruction in executable memory");
}

// One seized thread with the state it must get back.
struct Held {
  Tracee t;
  arch::Regs orig;
  std::uint64_t mask = 0;
  bool seccomp = false;  ///< In seccomp filter mode (held with the filters suspended).
};

// The seized process, every thread of it; on destruction without kill() or resume() each
// thread is put back exactly as found.
class Session {
 public:
  explicit Session(pid_t pid) : pid_(pid) {
    // The leader first; threads may be created while we seize, so list again until no new
    // one shows up.
    try {
      std::vector<int> seen = {pid};
      hold(pid);
      for (bool grew = true; grew;) {
        grew = false;
        for (int tid : list_threads(pid)) {
          if (std::find(seen.begin(), seen.end(), tid) != seen.end()) continue;
          seen.push_back(tid);
          hold(tid);
          grew = true;
        }
      }
    } catch (...) {
      put_back();
      throw;
    }
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (!done_) put_back();
  }

  std::vector<Held>& threads() { return held_; }
  Held& leader() { return held_.front(); }

  void set_insn(RemoteAddr insn) { insn_ = insn; }
  std::int64_t sys(Held& h, std::string_view name, std::initializer_list<std::uint64_t> args) {
    return h.t.syscall(insn_, arch::syscall_nr(arch::native_arch(), name), args);
  }
  std::int64_t sys(std::string_view name, std::initializer_list<std::uint64_t> args) {
    return sys(leader(), name, args);
  }
  /// Starts a syscall in the leader and returns while it runs; sys_finish() waits for it.
  void sys_start(std::string_view name, std::initializer_list<std::uint64_t> args) {
    leader().t.syscall_start(insn_, arch::syscall_nr(arch::native_arch(), name), args);
  }
  std::int64_t sys_finish() { return leader().t.syscall_finish(); }
  void map_scratch() {
    // An arch that takes mmap's arguments in memory gets them below the stack pointer, where
    // the stopped task keeps nothing (inject_mmap puts the bytes back).
    const RemoteAddr block((leader().orig.sp() - 256) & ~std::uint64_t{15});
    std::int64_t r = inject_mmap(
        leader().t, insn_,
        {0, page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, ~0ULL, 0}, block);
    if (r < 0 && r > -4096)
      throw CkptError(CkptError::kSystem,
                      "injected mmap failed in process " + std::to_string(pid_));
    scratch_ = RemoteAddr(static_cast<std::uint64_t>(r));
  }
  void unmap_scratch() {
    if (scratch_.null()) return;
    sys("munmap", {scratch_.addr(), page()});
    scratch_ = RemoteAddr();
  }
  RemoteAddr scratch() const { return scratch_; }

  /// Hands one of ckpt's descriptors to the task (engine/fd_passing.h). Returns the task's
  /// fd, or nullopt; it is closed again when the task is put back or killed.
  std::optional<int> pass_fd(int fd) {
    if (scratch_.null() || task_fd_ >= 0) return std::nullopt;
    auto channel = FdChannel::open(
        pid_, scratch_, [this](std::string_view name, std::initializer_list<std::uint64_t> args) {
          return sys(name, args);
        });
    if (!channel) return std::nullopt;
    std::optional<int> got = channel->pass(fd);
    if (got) task_fd_ = *got;
    return got;
  }
  void close_in_task() {
    if (task_fd_ < 0) return;
    sys("close", {static_cast<std::uint64_t>(task_fd_)});
    task_fd_ = -1;
  }

  /// Puts every thread back as it was found, still held: if ckpt dies now, the task runs on
  /// as before.
  void settle() {
    try {
      if (!insn_.null()) {
        close_in_task();
        unmap_scratch();
      }
    } catch (const std::exception&) {
      // The task died under us; nothing is left to put back.
    }
    for (Held& h : held_) {
      try {
        arch::Regs regs = h.orig;
        regs.arch().restart_fixup(regs, arch::RestartTarget::kSameTask);
        h.t.set_regs(regs);
        h.t.set_sigmask(h.mask);
      } catch (const std::exception&) {
        // This thread exited meanwhile.
      }
    }
  }
  void die_with_ckpt(bool on) {
    for (Held& h : held_)
      h.t.die_with_tracer(on);
  }
  /// Lets the task go on running as before.
  void resume() {
    put_back();
    done_ = true;
  }
  /// Kills the dumped task (CRIU's default after a dump).
  void kill() {
    leader().t.kill_process();
    for (Held& h : held_)
      h.t.kill_process();
    done_ = true;
  }
  /// After every process of the tree is killed: lets their parents reap them.
  void reap_killed() {
    // Threads first: the leader's death is told only once the others' have been.
    for (auto h = held_.rbegin(); h != held_.rend(); ++h)
      h->t.reap_killed();
  }

 private:
  static std::uint64_t page() { return arch::native_arch().page_size; }
  void hold(pid_t tid) {
    int mode = seccomp_mode(thread_status(pid_, tid));
    if (mode == 1)
      throw CkptError(CkptError::kUnsupported,
                      "thread " + std::to_string(tid) + " of process " + std::to_string(pid_) +
                          " is in strict seccomp mode (SECCOMP_MODE_STRICT), where no syscall "
                          "but read, write and exit can rebuild it; checkpoint it before it "
                          "enters strict mode, or make it use a seccomp filter instead");
    // Its filters must not judge the syscalls we inject.
    Tracee t = Tracee::seize(tid, mode == 2);
    arch::Regs regs = t.get_regs();
    std::uint64_t mask = t.get_sigmask();
    // Signals arriving while we inject stay pending instead of running handlers mid-dump.
    t.set_sigmask(~0ULL);
    held_.push_back({std::move(t), std::move(regs), mask, mode == 2});
  }
  void put_back() {
    settle();
    for (Held& h : held_) {
      try {
        h.t.detach();
      } catch (const std::exception&) {
        // This thread exited meanwhile.
      }
    }
  }

  pid_t pid_;
  std::vector<Held> held_;
  RemoteAddr insn_, scratch_;
  int task_fd_ = -1;
  bool done_ = false;
};

// The state of one thread; injected calls run in that thread. Its seccomp filters join the
// process's list.
CoreImage read_core(Session& s, Held& h, pid_t pid, std::vector<SeccompFilterImage>& filters) {
  const arch::Arch& a = arch::native_arch();
  const pid_t tid = h.t.tid();
  CoreImage core;
  core.tid = tid;
  core.creds = read_thread_creds(pid, tid);
  if (h.seccomp) core.seccomp_filter = add_seccomp_chain(filters, h.t.seccomp_filters());
  core.arch = std::string(a.name);
  arch::Regs regs = h.orig;
  a.restart_fixup(regs, arch::RestartTarget::kNewTask);
  core.regs = regs_to_names(regs);
  core.fp = to_hex(h.t.get_fp());
  for (const arch::VectorRegset& v : a.vector_regsets) {
    if (auto bytes = h.t.get_regset(v.note)) core.vector[std::string(v.name)] = to_hex(*bytes);
  }
  core.sigmask = h.mask;
  RseqConfig rseq = h.t.get_rseq();
  core.rseq_ptr = rseq.ptr;
  core.rseq_size = rseq.size;
  core.rseq_sig = rseq.signature;
  // The task is of ckpt's own arch, so its stack_t is ckpt's (an int among pointers: reading it
  // as words would take the padding on big-endian CPUs).
  stack_t altstack{};
  if (s.sys(h, "sigaltstack", {0, s.scratch().addr()}) != 0)
    throw CkptError(CkptError::kSystem,
                    "injected sigaltstack failed in thread " + std::to_string(tid));
  read_remote(tid, s.scratch(),
              std::span(reinterpret_cast<std::uint8_t*>(&altstack), sizeof altstack));
  core.altstack_sp = reinterpret_cast<std::uint64_t>(altstack.ss_sp);
  core.altstack_flags = altstack.ss_flags;
  core.altstack_size = altstack.ss_size;
  if (s.sys(h, "prctl", {PR_GET_TID_ADDRESS, s.scratch().addr(), 0, 0, 0}) != 0)
    throw CkptError(CkptError::kSystem,
                    "PR_GET_TID_ADDRESS failed in thread " + std::to_string(tid));
  read_remote(tid, s.scratch(),
              std::span(reinterpret_cast<std::uint8_t*>(&core.clear_tid), sizeof core.clear_tid));
  if (s.sys(h, "prctl", {PR_GET_PDEATHSIG, s.scratch().addr(), 0, 0, 0}) != 0)
    throw CkptError(CkptError::kSystem, "PR_GET_PDEATHSIG failed in thread " + std::to_string(tid));
  read_remote(tid, s.scratch(),
              std::span(reinterpret_cast<std::uint8_t*>(&core.pdeathsig), sizeof core.pdeathsig));
  std::uint64_t head = 0;
  std::size_t len = 0;
  if (::syscall(SYS_get_robust_list, tid, &head, &len) != 0)
    throw_errno("reading the robust futex list of thread " + std::to_string(tid));
  core.robust_head = head;
  core.robust_len = len;
  for (const auto& info : h.t.peek_siginfo(false))
    core.pending.push_back(to_hex(info));
  return core;
}

std::vector<SigactionImage> read_sigactions(Session& s) {
  std::vector<SigactionImage> out;
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    std::int64_t r = s.sys("rt_sigaction", {static_cast<std::uint64_t>(sig), 0, s.scratch().addr(),
                                            sizeof(std::uint64_t)});
    if (r != 0) continue;  // signals 32 and 33 belong to libc and may be refused
    std::uint64_t ksa[4];
    read_remote(s.leader().t.tid(), s.scratch(),
                std::span(reinterpret_cast<std::uint8_t*>(ksa), sizeof ksa));
    out.push_back({sig, ksa[0], ksa[1], ksa[2], ksa[3]});
  }
  return out;
}

// The interval timers that are armed, with the time each has left.
std::vector<ItimerImage> read_itimers(Session& s) {
  std::vector<ItimerImage> out;
  for (int which : {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF}) {
    if (s.sys("getitimer", {static_cast<std::uint64_t>(which), s.scratch().addr()}) != 0)
      throw CkptError(CkptError::kSystem,
                      "injected getitimer failed in process " + std::to_string(s.leader().t.tid()));
    itimerval v{};
    read_remote(s.leader().t.tid(), s.scratch(),
                std::span(reinterpret_cast<std::uint8_t*>(&v), sizeof v));
    if (v.it_value.tv_sec != 0 || v.it_value.tv_usec != 0)
      out.push_back({which, v.it_value.tv_sec, v.it_value.tv_usec, v.it_interval.tv_sec,
                     v.it_interval.tv_usec});
  }
  return out;
}

// The POSIX timers of the process, each with the time it has left (asked by the task).
std::vector<PosixTimerImage> read_posix_timers(Session& s, pid_t pid) {
  std::vector<PosixTimerImage> timers;
  try {
    timers = parse_proc_timers(read_file(proc_path(pid, "timers")));
  } catch (const std::runtime_error& e) {
    throw CkptError(CkptError::kSystem, "process " + std::to_string(pid) + ": " + e.what());
  }
  for (PosixTimerImage& t : timers) {
    if (std::string why = timer_refusal(t); !why.empty())
      throw CkptError(CkptError::kUnsupported, "process " + std::to_string(pid) + ": " + why);
    if (s.sys("timer_gettime", {static_cast<std::uint64_t>(t.id), s.scratch().addr()}) != 0)
      throw CkptError(CkptError::kSystem, "injected timer_gettime of timer " +
                                              std::to_string(t.id) + " failed in process " +
                                              std::to_string(pid));
    itimerspec v{};
    read_remote(pid, s.scratch(), std::span(reinterpret_cast<std::uint8_t*>(&v), sizeof v));
    t.value_sec = v.it_value.tv_sec;
    t.value_nsec = v.it_value.tv_nsec;
    t.interval_sec = v.it_interval.tv_sec;
    t.interval_nsec = v.it_interval.tv_nsec;
  }
  return timers;
}

// Copies runs of pages into the pages file. Where ckpt could hand the file to the task, the
// task writes its own pages (injected pwrite64): one copy straight into the page cache, where ckpt
// reading them would copy twice and pin every page; ckpt hashes the previous chunk from the
// file meanwhile. Otherwise (a file going to a page server has no fd to hand over), and for
// unreadable ranges, ckpt reads the task's memory.
class PageCopier {
 public:
  PageCopier(Session& s, pid_t pid, int mem_fd, PagesWriter& out)
      : s_(s),
        pid_(pid),
        mem_fd_(mem_fd),
        out_(out),
        task_fd_(out.fd() >= 0 ? s.pass_fd(out.fd()) : std::nullopt) {}

  std::uint64_t bytes_by_task() const { return by_task_; }

  void copy(const VmaImage& vma, const std::vector<PageRun>& runs,
            std::vector<PagemapEntry>& pagemap) {
    const std::size_t ps = arch::native_arch().page_size;
    const bool readable = vma.prot & PROT_READ;
    for (const PageRun& run : runs) {
      pagemap.push_back({run.vaddr, run.npages, out_.size()});
      std::uint64_t end = run.vaddr + run.npages * ps;
      std::size_t step = readable && task_fd_ ? kTaskChunk : kChunk;
      for (std::uint64_t at = run.vaddr; at < end; at += step) {
        std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(step, end - at));
        if (readable && task_fd_) {
          task_write(at, len);
        } else {
          out_.hash_written(out_.size());
          read_here(readable, at, len);
          out_.append(std::span(buf_.data(), len));
        }
      }
    }
  }

  /// Hashes what the task wrote last and closes its handle on the file.
  void finish() {
    out_.hash_written(out_.size());
    s_.close_in_task();
  }

 private:
  // Large enough that the injection (a few ptrace round trips) costs nothing per byte, small
  // enough that the chunk ckpt hashes is still in the CPU's last-level cache.
  static constexpr std::size_t kTaskChunk = 8 << 20;

  void task_write(std::uint64_t at, std::size_t len) {
    std::uint64_t off = out_.reserve(len);
    s_.sys_start("pwrite64", {static_cast<std::uint64_t>(*task_fd_), at, len, off});
    try {
      out_.hash_written(off);
    } catch (...) {
      s_.sys_finish();
      throw;
    }
    std::int64_t n = s_.sys_finish();
    for (std::size_t done = 0;;) {
      if (n == -EFAULT) {
        // A page the task cannot read back (e.g. a file mapping past its file's end): the
        // dump fails on it as ckpt's own read would, naming the address.
        read_here_at(at + done, len - done, off + done);
        return;
      }
      if (n <= 0)
        throw CkptError(CkptError::kSystem,
                        "the task wrote only " + std::to_string(done) + " of " +
                            std::to_string(len) + " bytes at " + std::to_string(at) +
                            " into image file " + out_.path() + ": " +
                            std::strerror(n < 0 ? static_cast<int>(-n) : ENOSPC) + " (disk full?)");
      done += static_cast<std::size_t>(n);
      by_task_ += static_cast<std::uint64_t>(n);
      if (done == len) return;
      n = s_.sys("pwrite64",
                 {static_cast<std::uint64_t>(*task_fd_), at + done, len - done, off + done});
    }
  }

  // Reads [at, at + len) of the task into the reserved range at off of the file.
  void read_here_at(std::uint64_t at, std::size_t len, std::uint64_t off) {
    for (std::size_t done = 0; done < len;) {
      std::size_t n = std::min(kChunk, len - done);
      read_here(true, at + done, n);
      out_.write_reserved(off + done, std::span(buf_.data(), n));
      done += n;
    }
  }

  void read_here(bool readable, std::uint64_t at, std::size_t len) {
    buf_.resize(std::max(buf_.size(), len));
    if (readable) {
      read_remote(pid_, RemoteAddr(at), std::span(buf_.data(), len));
    } else if (::pread(mem_fd_, buf_.data(), len, static_cast<off_t>(at)) !=
               static_cast<ssize_t>(len)) {
      // Unreadable ranges (PROT_NONE) come through /proc/PID/mem, which may force access.
      throw_errno("reading protected memory at " + std::to_string(at) + " of process " +
                  std::to_string(pid_));
    }
  }

  Session& s_;
  pid_t pid_;
  int mem_fd_;
  PagesWriter& out_;
  std::optional<int> task_fd_;
  std::uint64_t by_task_ = 0;
  std::vector<std::uint8_t> buf_;
};

// The process and its descendants as /proc shows them, parents before children.
std::vector<TreeMember> collect_tree(pid_t root) {
  std::vector<TreeMember> out = {{root, 0, 0, 0, false}};
  for (std::size_t i = 0; i < out.size(); ++i) {
    ProcStat stat(read_file(proc_path(out[i].pid, "stat")));
    out[i].ppid = static_cast<int>(stat.number(4));
    out[i].pgid = static_cast<int>(stat.number(5));
    out[i].sid = static_cast<int>(stat.number(6));
    out[i].zombie = stat.field(3) == "Z";
    if (out[i].zombie) continue;
    for (pid_t kid : list_children(out[i].pid))
      out.push_back({kid, out[i].pid, 0, 0, false});
  }
  return out;
}

// Fills in what restore sets in the namespaces it makes for the tree (ns), asked of the
// root: its hostname and domain name.
void read_namespace_state(Session& s, NamespacesImage& ns) {
  const pid_t pid = s.leader().t.tid();
  if (ns.uts) {
    if (s.sys("uname", {s.scratch().addr()}) != 0)
      throw CkptError(CkptError::kSystem,
                      "injected uname failed in process " + std::to_string(pid));
    utsname u{};
    read_remote(pid, s.scratch(), std::span(reinterpret_cast<std::uint8_t*>(&u), sizeof u));
    ns.hostname = std::string(u.nodename, ::strnlen(u.nodename, sizeof u.nodename));
    ns.domainname = std::string(u.domainname, ::strnlen(u.domainname, sizeof u.domainname));
  }
}

// A System V segment comes back from the image of its IPC namespace and is attached again
// from its start, as shmat maps it. Refused in ckpt's IPC namespace, whose objects outlive
// the tree and are shared with processes outside it, and where the tree unmapped the head
// of an attachment. prev: the mapping below e.
void check_attachment(pid_t pid, const MapsEntry& e, const VmaImage* prev, bool own_ipc) {
  std::ostringstream what;
  what << "process " << pid << ": System V shared memory segment " << e.inode << " attached at 0x"
       << std::hex << e.start;
  if (!own_ipc)
    throw CkptError(CkptError::kUnsupported,
                    what.str() +
                        " lives in ckpt's IPC namespace, shared with processes outside the "
                        "tree; ckpt checkpoints the System V objects of a tree started in an IPC "
                        "namespace of its own (unshare --ipc)");
  const bool continues = prev != nullptr && prev->kind == "sysv" && prev->inode == e.inode &&
                         prev->end == e.start &&
                         prev->offset + (prev->end - prev->start) == e.offset;
  if (e.offset != 0 && !continues)
    throw CkptError(CkptError::kUnsupported,
                    what.str() + " maps it from byte " + std::to_string(e.offset) +
                        " on (the head of the attachment was unmapped), which shmat cannot "
                        "make again");
}

// Restore makes one PID namespace, whose first process is its init: the root must be the
// init of its namespace, one level below ckpt's.
void check_pid_namespace_init(pid_t root) {
  const std::vector<pid_t> pids = ns_pids(root, root);
  if (pids.size() != 2)
    throw CkptError(CkptError::kUnsupported,
                    "process " + std::to_string(root) + " runs " + std::to_string(pids.size() - 1) +
                        " PID namespaces below ckpt's; ckpt makes one: run ckpt in the namespace "
                        "that holds the tree's");
  if (pids.back() != 1)
    throw CkptError(CkptError::kUnsupported,
                    "process " + std::to_string(root) + " is pid " + std::to_string(pids.back()) +
                        " of its own PID namespace, whose init (pid 1) is outside the tree; dump "
                        "the namespace's init to take the whole namespace");
}

// Each task's and thread's pid in the tree's PID namespace, by its pid in ckpt's. procs:
// tree.json's processes.
std::map<int, int> pids_in_namespace(const nlohmann::json& procs) {
  std::map<int, int> out;
  for (const auto& p : procs) {
    const pid_t pid = p.at("pid").get<pid_t>();
    std::vector<pid_t> tids = {pid};
    if (!p.value("zombie", false)) tids = p.at("threads").get<std::vector<pid_t>>();
    for (pid_t tid : tids) {
      const std::vector<pid_t> ns = ns_pids(pid, tid);
      if (ns.size() != 2)
        throw CkptError(CkptError::kUnsupported, "thread " + std::to_string(tid) + " of process " +
                                                     std::to_string(pid) +
                                                     " is not in the tree's PID namespace");
      out[tid] = ns.back();
    }
  }
  return out;
}

// The image of a chain before this one, and how the chain finds written pages.
struct Chain {
  Tracking tracking = Tracking::kHash;
  std::optional<ImageReader> parent;
  bool pre_dump = false;

  /// The pages the chain holds for process pid, or nullopt for one the parent did not dump.
  std::optional<ParentPages> pages_of(pid_t pid) const {
    const std::string id = std::to_string(pid);
    if (!parent || !parent->has("pagemap-" + id + ".json")) return std::nullopt;
    std::vector<std::uint64_t> hashes;
    if (parent->has("hashes-" + id + ".img")) {
      const std::vector<std::uint8_t> raw = parent->data("hashes-" + id + ".img");
      for (std::size_t at = 0; at + 8 <= raw.size(); at += 8) {
        std::uint64_t le = 0;
        std::memcpy(&le, raw.data() + at, 8);
        hashes.push_back(le64toh(le));
      }
    }
    return ParentPages(parent->json("pagemap-" + id + ".json").get<std::vector<PagemapEntry>>(),
                       std::move(hashes));
  }
  /// The tracking userfaultfd the parent left in process pid.
  std::optional<int> tracking_fd(pid_t pid) const {
    const std::string name = "track-" + std::to_string(pid) + ".json";
    if (!parent || !parent->has(name)) return std::nullopt;
    return parent->json(name).at("uffd").get<int>();
  }
};

using Vmas = std::vector<std::pair<VmaImage, std::optional<PageFilter>>>;

// The mappings of a held process, each with the filter of the pages of it an image copies.
// files: the table that mappings of unlinked files join (nullptr for a pre-dump, which copies
// memory only).
Vmas read_vmas(pid_t pid, const std::vector<MapsEntry>& maps, FileTable* files,
               const NamespacesImage& ns) {
  Vmas vmas;
  for (const MapsEntry& e : maps) {
    VmaClass c = classify_vma(e);
    if (c.refusal)
      throw CkptError(CkptError::kUnsupported,
                      "process " + std::to_string(pid) + ": " + *c.refusal);
    VmaImage v{e.start,  e.end,      prot_of(e), e.shared, c.kind, c.kind == "file" ? e.path : "",
               e.offset, e.vm_flags, e.inode,    -1};
    if (c.kind == "sysv" && files != nullptr)
      check_attachment(pid, e, vmas.empty() ? nullptr : &vmas.back().first, ns.ipc);
    if (c.kind == "unlinked" && files != nullptr) {
      v.unlinked = files->add_mapping(pid, e);
      v.path = e.path.substr(0, e.path.rfind(" (deleted)"));
    }
    vmas.emplace_back(std::move(v), c.pages);
  }
  return vmas;
}

// Marks the pages of run remote, except those of the sorted page addresses `except`, which
// copy_page copies.
template <typename CopyPage>
void leave_remote(const ChainRun& run, const std::vector<std::uint64_t>& except, std::size_t ps,
                  std::vector<PagemapEntry>& pagemap, DumpResult& result, CopyPage copy_page) {
  std::uint64_t at = run.vaddr;
  const std::uint64_t end = run.vaddr + run.npages * ps;
  auto remote_to = [&](std::uint64_t to) {
    if (to <= at) return;
    pagemap.push_back({at, (to - at) / ps, 0, false, true});
    result.pages_remote += to - at;
  };
  for (auto it = std::lower_bound(except.begin(), except.end(), at);
       it != except.end() && *it < end; ++it) {
    remote_to(*it);
    copy_page(*it);
    at = *it + ps;
  }
  remote_to(end);
}

// Copies into pages-PID.img the present pages of the held process that the chain does not
// hold unchanged (all of them without a parent); returns the pagemap. With hash tracking the
// XXH3 of every present page goes to hashes-PID.img for the next image.
std::vector<PagemapEntry> copy_memory(Session& s, pid_t pid, const Vmas& vmas, ImageWriter& image,
                                      const Chain& chain, DumpResult& result,
                                      const std::vector<std::uint64_t>* remote_except = nullptr,
                                      const ScanAhead* ahead = nullptr) {
  const arch::Arch& a = arch::native_arch();
  enter_phase("memory");
  const std::string id = std::to_string(pid);
  const std::string pages_name = "pages-" + id + ".img";
  PagesWriter pages = image.open_pages(pages_name, ImageWriter::Where::kPageServerOnly);
  UniqueFd pagemap_fd(::open(proc_path(pid, "pagemap").c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd mem_fd(::open(proc_path(pid, "mem").c_str(), O_RDONLY | O_CLOEXEC));
  if (!pagemap_fd || !mem_fd) throw_errno("opening pagemap/mem of process " + id);
  const std::optional<ParentPages> parent = chain.pages_of(pid);
  PageTracker tracker(chain.tracking, parent ? &*parent : nullptr, pagemap_fd.get(), mem_fd.get(),
                      chain.pre_dump, ahead);
  std::vector<PagemapEntry> pagemap;
  PageCopier copier(s, pid, mem_fd.get(), pages);
  for (const auto& [vma, filter] : vmas) {
    if (!filter) continue;
    enter_phase("pages");
    for (const ChainRun& run : tracker.split(vma, *filter)) {
      if (run.in_parent) {
        pagemap.push_back({run.vaddr, run.npages, 0, true});
        result.pages_in_parent += run.npages * a.page_size;
      } else if (remote_except != nullptr && may_fill_lazily(vma)) {
        // A named reference: clang 14 cannot capture a structured binding.
        const VmaImage& in = vma;
        leave_remote(run, *remote_except, a.page_size, pagemap, result, [&](std::uint64_t page) {
          copier.copy(in, {{page, 1}}, pagemap);
        });
      } else {
        copier.copy(vma, {{run.vaddr, run.npages}}, pagemap);
      }
    }
  }
  copier.finish();
  result.pages_bytes += pages.size();
  result.pages_by_task += copier.bytes_by_task();
  image.add_pages(pages_name, pages);
  if (chain.tracking == Tracking::kHash) {
    PagesWriter hashes = image.open_pages("hashes-" + id + ".img");
    std::vector<std::uint8_t> raw(tracker.hashes().size() * 8);
    for (std::size_t i = 0; i < tracker.hashes().size(); ++i) {
      const std::uint64_t le = htole64(tracker.hashes()[i]);
      std::memcpy(raw.data() + i * 8, &le, 8);
    }
    hashes.append(raw);
    image.add_pages("hashes-" + id + ".img", hashes);
  }
  return pagemap;
}

// The smaps of the held process pid. When the dump after a pre-dump will scan its private
// anonymous memory for written pages, that scan goes into ahead meanwhile: reading smaps walks
// every present page too, and on another core the two take the time of the longer one.
std::string read_smaps_scanning(pid_t pid, const Chain& chain, bool copy_pages, ScanAhead& ahead) {
  if (!copy_pages || chain.tracking != Tracking::kPagemapScan || !chain.parent)
    return read_file(proc_path(pid, "smaps"));
  std::future<std::string> smaps =
      std::async(std::launch::async, [pid] { return read_file(proc_path(pid, "smaps")); });
  UniqueFd pagemap(::open(proc_path(pid, "pagemap").c_str(), O_RDONLY | O_CLOEXEC));
  if (!pagemap) throw_errno("opening the pagemap of process " + std::to_string(pid));
  for (const MapsEntry& e : parse_maps(read_file(proc_path(pid, "maps")))) {
    VmaImage v;
    v.shared = e.shared;
    const VmaClass c = classify_vma(e);
    v.kind = c.kind;
    if (!c.refusal && c.pages == PageFilter::kPresent && trackable(v))
      ahead.scan(pagemap.get(), e.start, e.end);
  }
  return smaps.get();
}

// Copies the memory of one live process for a pre-dump and arms the tracking of the pages it
// writes from now on; returns its session, still holding it. made_fd: the tracking
// userfaultfd this pre-dump put into the process, which a failure must take out again.
std::unique_ptr<Session> pre_dump_process(pid_t pid, ImageWriter& image, const Chain& chain,
                                          DumpResult& result, std::optional<int>& made_fd,
                                          const std::function<void(pid_t)>& authorize) {
  enter_phase("seize");
  auto session = std::make_unique<Session>(pid);
  Session& s = *session;
  if (authorize) authorize(pid);
  auto maps = parse_smaps(read_file(proc_path(pid, "smaps")));
  const Vmas vmas = read_vmas(pid, maps, nullptr, NamespacesImage{});
  enter_phase("inject");
  s.set_insn(find_syscall_insn(pid, maps));
  s.map_scratch();
  const std::string id = std::to_string(pid);
  image.write_json("pagemap-" + id + ".json", copy_memory(s, pid, vmas, image, chain, result));
  result.vmas += vmas.size();
  enter_phase("track");
  if (chain.tracking == Tracking::kSoftDirty) {
    write_file(proc_path(pid, "clear_refs"), "4", "clearing the soft-dirty bits of process " + id);
  } else if (chain.tracking == Tracking::kPagemapScan) {
    std::vector<VmaImage> plain;
    for (const auto& [vma, filter] : vmas)
      plain.push_back(vma);
    std::optional<int> before = chain.tracking_fd(pid);
    if (before && !is_userfaultfd(pid, *before)) before.reset();
    const int fd =
        arm_write_tracking(pid, plain, before, s.scratch(),
                           [&s](std::string_view name, std::initializer_list<std::uint64_t> args) {
                             return s.sys(name, args);
                           });
    if (fd != before) made_fd = fd;
    try {
      image.write_json("track-" + id + ".json", {{"uffd", fd}});
    } catch (...) {
      if (made_fd) s.sys("close", {static_cast<std::uint64_t>(*made_fd)});
      throw;
    }
  }
  s.unmap_scratch();
  return session;
}

// Dumps one live process into the image; returns its session, still holding it. ns: the
// namespaces restore makes for the tree; the root's is_root reads their state.
std::unique_ptr<Session> dump_process(pid_t pid, ImageWriter& image, FileTable& files,
                                      DumpResult& result, NamespacesImage& ns, bool is_root,
                                      const Chain& chain, bool close_tracking, bool leave_remote,
                                      bool copy_pages, const DumpOptions& opts) {
  enter_phase("seize");
  auto session = std::make_unique<Session>(pid);
  Session& s = *session;
  if (opts.authorize) opts.authorize(pid);
  TaskImage task = read_task(pid);
  std::vector<int> skip;
  // The tracking userfaultfd a pre-dump left is ckpt's, not the process's.
  const std::optional<int> tracking_fd = chain.tracking_fd(pid);
  if (tracking_fd && is_userfaultfd(pid, *tracking_fd)) skip.push_back(*tracking_fd);
  if (is_root && opts.caller_fd) {
    skip.push_back(*opts.caller_fd);
    image.write_json(kCallerFdFile, caller_fd_record(pid, *opts.caller_fd, opts.caller_reply));
  }
  task.fds = files.add_process(pid, skip);
  MmImage mm = read_mm_fields(pid);
  ScanAhead ahead;
  auto maps = parse_smaps(read_smaps_scanning(pid, chain, copy_pages, ahead));
  const Vmas vmas = read_vmas(pid, maps, &files, ns);
  enter_phase("inject");
  s.set_insn(find_syscall_insn(pid, maps));
  s.map_scratch();
  mm.brk = static_cast<std::uint64_t>(s.sys("brk", {0}));
  task.sigactions = read_sigactions(s);
  if (is_root) read_namespace_state(s, ns);
  task.itimers = read_itimers(s);
  task.posix_timers = read_posix_timers(s, pid);
  task.stopped = s.leader().t.group_stop_signal() != 0;
  if (s.sys("prctl", {PR_GET_CHILD_SUBREAPER, s.scratch().addr(), 0, 0, 0}) != 0)
    throw CkptError(
        CkptError::kSystem,
        "injected prctl(PR_GET_CHILD_SUBREAPER) failed in process " + std::to_string(pid));
  int subreaper = 0;
  read_remote(pid, s.scratch(),
              std::span(reinterpret_cast<std::uint8_t*>(&subreaper), sizeof subreaper));
  task.child_subreaper = subreaper != 0;
  // Read, not asked for: prlimit on a task with other uids needs CAP_SYS_RESOURCE, and an
  // injected call per limit costs the frozen tree two stops each.
  const std::string limits = read_file(proc_path(pid, "limits"));
  try {
    task.rlimits = parse_limits(limits);
  } catch (const std::runtime_error& e) {
    throw CkptError(CkptError::kSystem,
                    "the limits of process " + std::to_string(pid) + ": " + e.what());
  }
  if (task.rlimits.size() != RLIM_NLIMITS)
    throw CkptError(CkptError::kSystem, "/proc/" + std::to_string(pid) + "/limits lists " +
                                            std::to_string(task.rlimits.size()) + " limits, not " +
                                            std::to_string(RLIM_NLIMITS));
  std::vector<CoreImage> cores;
  for (Held& h : s.threads())
    cores.push_back(read_core(s, h, pid, task.seccomp_filters));

  enter_phase("core");
  for (const auto& info : s.leader().t.peek_siginfo(true))
    task.shared_pending.push_back(to_hex(info));

  std::optional<std::vector<std::uint64_t>> remote_except;
  if (leave_remote) {
    const std::size_t ps = arch::native_arch().page_size;
    std::vector<std::uint64_t> pages = pages_needed_at_once(cores, ps);
    for (std::uint64_t& p : pages)
      p = p / ps * ps;
    std::sort(pages.begin(), pages.end());
    pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
    remote_except = std::move(pages);
  }
  const std::vector<PagemapEntry> pagemap =
      copy_pages ? copy_memory(s, pid, vmas, image, chain, result,
                               remote_except ? &*remote_except : nullptr, &ahead)
                 : std::vector<PagemapEntry>{};
  for (const auto& [vma, filter] : vmas)
    mm.vmas.push_back(vma);
  result.vmas += mm.vmas.size();
  // Closing it ends the tracking: the process runs on as it did before the pre-dumps.
  if (tracking_fd && close_tracking && is_userfaultfd(pid, *tracking_fd))
    s.sys("close", {static_cast<std::uint64_t>(*tracking_fd)});
  s.unmap_scratch();

  enter_phase("write");
  std::string id = std::to_string(pid);
  image.write_json("task-" + id + ".json", task);
  for (const CoreImage& c : cores)
    image.write_json("core-" + std::to_string(c.tid) + ".json", c);
  image.write_json("mm-" + id + ".json", mm);
  image.write_json("pagemap-" + id + ".json", pagemap);
  return session;
}

// The previous image of the chain opts.prev_dir names, checked to be a pre-dump of the same
// tree, and the tracking the chain uses.
Chain open_chain(const DumpOptions& opts) {
  Chain chain;
  chain.pre_dump = opts.pre_dump;
  if (opts.prev_dir.empty()) {
    chain.tracking = opts.track ? *opts.track : best_tracking();
    return chain;
  }
  // Its pages may be on a page server: the chain needs only its pagemaps and hashes here.
  chain.parent.emplace(opts.prev_dir, ImageReader::Contents::kMetadataOnly);
  const nlohmann::json& inv = chain.parent->inventory();
  if (inv.value("kind", "") != "pre-dump")
    throw CkptError(CkptError::kUsage, "--prev-images-dir " + opts.prev_dir +
                                           " is no pre-dump's image; ckpt pre-dump makes one");
  if (inv.value("root_pid", 0) != opts.pid)
    throw CkptError(CkptError::kUsage, "--prev-images-dir " + opts.prev_dir +
                                           " is an image of process " +
                                           std::to_string(inv.value("root_pid", 0)) + ", not of " +
                                           std::to_string(opts.pid));
  chain.tracking = parse_tracking(inv.value("track", ""));
  if (opts.track && *opts.track != chain.tracking)
    throw CkptError(CkptError::kUsage, "--track " + tracking_name(*opts.track) + ": the chain of " +
                                           opts.prev_dir + " tracks written pages by " +
                                           tracking_name(chain.tracking) +
                                           ", which every image of it keeps");
  return chain;
}

// dir made absolute, without a trailing separator.
std::filesystem::path absolute_dir(const std::string& dir) {
  std::filesystem::path p = std::filesystem::absolute(dir).lexically_normal();
  return p.has_filename() ? p : p.parent_path();
}

// The connection to opts.page_server, the image begun there, or null without one.
std::unique_ptr<ImageSender> connect_page_server(const DumpOptions& opts) {
  if (!opts.page_server) return nullptr;
  return std::make_unique<ImageSender>(*opts.page_server, opts.tls,
                                       absolute_dir(opts.dir).filename().string());
}

// Where the image goes besides opts.dir, begun there: opts.sender or the page server.
ImageSender* begin_remote(const DumpOptions& opts, std::unique_ptr<ImageSender>& own) {
  if (opts.sender == nullptr) {
    own = connect_page_server(opts);
    return own.get();
  }
  opts.sender->begin(absolute_dir(opts.dir).filename().string());
  return opts.sender;
}

nlohmann::json inventory_fields(pid_t pid, const std::string& kind, const Chain& chain,
                                const DumpOptions& opts) {
  const arch::Arch& a = arch::native_arch();
  utsname u{};
  ::uname(&u);
  nlohmann::json fields = {{"arch", std::string(a.name)},
                           {"endianness", a.endian == arch::Endian::kLittle ? "little" : "big"},
                           {"page_size", a.page_size},
                           {"kernel_release", u.release},
                           {"root_pid", pid},
                           {"kind", kind},
                           {"track", tracking_name(chain.tracking)},
                           {"created_by", "ckpt " CROSSRIG_VERSION}};
  // Relative to the image's own directory, so that a chain moved together, or received side
  // by side by a page server, still holds together.
  if (chain.parent)
    fields["parent"] = absolute_dir(opts.prev_dir).lexically_relative(absolute_dir(opts.dir));
  return fields;
}

// The post-dump scripts, with the tree held as it was found: a script that takes long, or ckpt
// killed meanwhile, leaves it so. One that fails takes the committed image away again (but the
// copy a page server committed), and dir as empty as it was if it existed.
void run_post_dump(const ActionScripts& scripts, std::vector<std::unique_ptr<Session>>& sessions,
                   const DumpOptions& opts, bool dir_existed) {
  if (scripts.empty()) return;
  for (auto& s : sessions)
    s->settle();
  try {
    scripts.run(ScriptAction::kPostDump, opts.pid, opts.dir);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(opts.dir, ec);
    if (dir_existed) std::filesystem::create_directory(opts.dir, ec);
    throw;
  }
}

// Copies the memory of every live process of the tree, which runs on, and arms the tracking
// of the pages written from now on. A failure puts every process back as it was, without
// the userfaultfds this pre-dump made.
DumpResult pre_dump_tree(const std::vector<TreeMember>& tree, const DumpOptions& opts,
                         const Chain& chain, ImageSender* remote, const ActionScripts& scripts,
                         bool dir_existed) {
  ImageWriter image(opts.dir, remote);
  DumpResult result;
  result.tracking = chain.tracking;
  std::vector<std::unique_ptr<Session>> sessions;
  std::vector<std::optional<int>> made(tree.size());
  try {
    for (std::size_t i = 0; i < tree.size(); ++i) {
      if (!tree[i].zombie)
        sessions.push_back(
            pre_dump_process(tree[i].pid, image, chain, result, made[i], opts.authorize));
    }
    enter_phase("commit");
    image.commit(inventory_fields(opts.pid, "pre-dump", chain, opts));
    if (remote != nullptr) result.page_server_path = remote->landed();
    run_post_dump(scripts, sessions, opts, dir_existed);
  } catch (...) {
    // Closing a tracking userfaultfd ends its write-protection too.
    std::size_t held = 0;
    for (std::size_t i = 0; i < tree.size() && held < sessions.size(); ++i) {
      if (tree[i].zombie) continue;
      if (made[i]) sessions[held]->sys("close", {static_cast<std::uint64_t>(*made[i])});
      ++held;
    }
    throw;
  }
  for (auto& s : sessions)
    s->resume();
  return result;
}

}  // namespace

void end_tracking(pid_t pid, const std::string& pre_dump_dir) {
  if (pre_dump_dir.empty()) return;
  DumpOptions o;
  o.pid = pid;
  o.prev_dir = pre_dump_dir;
  const Chain chain = open_chain(o);
  for (const TreeMember& n : collect_tree(pid)) {
    const std::optional<int> fd = chain.tracking_fd(n.pid);
    if (n.zombie || !fd || !is_userfaultfd(n.pid, *fd)) continue;
    Session s(n.pid);
    s.set_insn(find_syscall_insn(n.pid, parse_maps(read_file(proc_path(n.pid, "maps")))));
    s.sys("close", {static_cast<std::uint64_t>(*fd)});
    s.resume();
  }
}

namespace {

// The tracking a decided dump left armed (dump_process), ended as the tree runs on here after
// decide failed: that failure is the one to report (migrate, which sees it, tries again).
void end_tracking_after_failure(pid_t pid, const std::string& prev_dir) {
  try {
    end_tracking(pid, prev_dir);
  } catch (const std::exception&) {
  }
}

}  // namespace

DumpResult dump(const DumpOptions& opts) {
  const arch::Arch& a = arch::native_arch();
  const pid_t pid = opts.pid;
  enter_phase("check");
  // kill() below would take 0 and negative numbers for process groups.
  if (pid <= 0)
    throw CkptError(CkptError::kUsage,
                    "dump needs the PID of a process, not " + std::to_string(pid));
  if (opts.dir.empty()) throw CkptError(CkptError::kUsage, "dump needs an image directory");
  if (opts.leave_remote && (!opts.decide || opts.pre_dump))
    throw CkptError(CkptError::kUsage,
                    "pages are left in the processes only while decide holds them");
  if (opts.check_only && (opts.pre_dump || opts.decide || opts.page_server || opts.sender))
    throw CkptError(CkptError::kUsage, "a check writes no image, to a page server or elsewhere");
  // Page runs, pagemap offsets and the inventory all count in the table's page size.
  if (const long host_page = ::sysconf(_SC_PAGESIZE); host_page != static_cast<long>(a.page_size)) {
    throw CkptError(CkptError::kUnsupported,
                    "this " + std::string(a.name) + " kernel uses " + std::to_string(host_page) +
                        "-byte pages; ckpt's " + std::string(a.name) + " table assumes " +
                        std::to_string(a.page_size) + " (arch/" + std::string(a.name) +
                        "/arch.cc): run a kernel with " + std::to_string(a.page_size) +
                        "-byte pages");
  }
  if (::kill(pid, 0) != 0) throw_errno("process " + std::to_string(pid));
  const Chain chain = open_chain(opts);
  // A check leaves the tree as it is: nothing to quiesce.
  const ActionScripts scripts(opts.check_only ? std::vector<std::string>{} : opts.action_scripts);
  std::error_code ec;
  const bool dir_existed = std::filesystem::is_directory(opts.dir, ec);
  scripts.run(ScriptAction::kPreDump, pid, opts.dir);
  // Before any process is touched: a page server that refuses us fails the dump here.
  std::unique_ptr<ImageSender> own_sender;
  ImageSender* const remote = begin_remote(opts, own_sender);
  auto tree = collect_tree(pid);
  if (tree.front().zombie)
    throw CkptError(CkptError::kUnsupported, "process " + std::to_string(pid) + " is a zombie");
  if (opts.pre_dump) return pre_dump_tree(tree, opts, chain, remote, scripts, dir_existed);
  std::vector<pid_t> live;
  std::set<pid_t> members;
  check_groups(tree);
  NamespacesImage namespaces;
  {
    std::vector<std::pair<pid_t, NamespaceIds>> ids;
    for (const TreeMember& n : tree) {
      if (!n.zombie) ids.emplace_back(n.pid, read_namespaces(n.pid));
    }
    for (const std::string& kind : namespaces_to_make(read_namespaces(::getpid()), ids)) {
      namespaces.uts = namespaces.uts || kind == "uts";
      namespaces.ipc = namespaces.ipc || kind == "ipc";
      namespaces.net = namespaces.net || kind == "net";
      namespaces.pid = namespaces.pid || kind == "pid";
      namespaces.mnt = namespaces.mnt || kind == "mnt";
    }
  }
  if (namespaces.pid) check_pid_namespace_init(pid);
  std::optional<MountsImage> mounts;
  if (namespaces.mnt) mounts = read_mounts(pid);
  // Before any socket is looked at: sock_diag and TCP ports answer for the namespace asked in.
  std::optional<InNetNamespace> in_net;
  if (namespaces.net) {
    in_net.emplace(pid);
    namespaces.loopback_up = read_loopback_up(pid);
  }
  for (const TreeMember& n : tree) {
    members.insert(n.pid);
    if (!n.zombie) live.push_back(n.pid);
  }
  if (!opts.shell_job) refuse_foreign_terminals(live, members);
  refuse_spu_contexts(live);

  ImageWriter image(opts.dir, remote);
  DumpResult result;
  // Sessions put every process back if anything below fails.
  std::vector<std::unique_ptr<Session>> sessions;
  FileTable files(opts.tcp_established);
  nlohmann::json procs = nlohmann::json::array();
  for (const TreeMember& n : tree) {
    if (n.zombie) {
      ProcStat stat(read_file(proc_path(n.pid, "stat")));
      procs.push_back({{"pid", n.pid},
                       {"ppid", n.ppid},
                       {"zombie", true},
                       {"pgid", n.pgid},
                       {"sid", n.sid},
                       {"exit_code", stat.number(52)}});
      continue;
    }
    // A process that runs on after the dump leaves the pre-dumps' tracking behind. One that
    // decide holds keeps it until decided: closing the userfaultfd write-unprotects every page
    // it covers (50 ms for 2 GiB), which a migration's frozen tree should not wait for, and a
    // process killed after a decision takes its userfaultfd along.
    sessions.push_back(dump_process(n.pid, image, files, result, namespaces, n.pid == pid, chain,
                                    opts.leave_running || opts.check_only, opts.leave_remote,
                                    !opts.check_only, opts));
    procs.push_back(
        {{"pid", n.pid}, {"ppid", n.ppid}, {"zombie", false}, {"threads", list_threads(n.pid)}});
  }
  // Every process is held now: no thread comes or goes.
  if (namespaces.pid) namespaces.pids = pids_in_namespace(procs);
  if (namespaces.ipc) {
    enter_phase("ipc");
    PagesWriter data = image.open_pages("ipc-data.img");
    IpcImage ipc;
    in_namespace_of(pid, CLONE_NEWIPC, [&] { ipc = read_ipc_objects(data); });
    image.add_pages("ipc-data.img", data);
    image.write_json("ipc.json", ipc);
  }
  if (mounts) {
    enter_phase("mounts");
    PagesWriter data = image.open_pages("mounts-data.img");
    read_tmpfs_files(pid, *mounts, data);
    image.add_pages("mounts-data.img", data);
    image.write_json("mounts.json", *mounts);
  }
  enter_phase("files");
  files.write(image);
  // Read while every process is held, so none moves itself meanwhile.
  if (opts.manage_cgroups) image.write_json("cgroups.json", read_tree_cgroups(live));
  image.write_json("tree.json", {{"root", pid}, {"processes", procs}, {"namespaces", namespaces}});
  if (opts.check_only) {
    // Nothing refused: the tree runs on, and the image, never committed, goes.
    for (auto& s : sessions)
      s->resume();
    return result;
  }
  enter_phase("commit");
  image.commit(inventory_fields(pid, "dump", chain, opts));
  if (remote) result.page_server_path = remote->landed();
  result.tracking = chain.tracking;
  try {
    run_post_dump(scripts, sessions, opts, dir_existed);
  } catch (...) {
    for (auto& s : sessions)
      s->resume();
    end_tracking_after_failure(pid, opts.prev_dir);
    throw;
  }
  bool kill = !opts.leave_running;
  if (opts.decide) {
    enter_phase("decide");
    for (auto& s : sessions)
      s->settle();
    HeldTree held;
    held.die_with_ckpt = [&](bool on) {
      for (auto& s : sessions)
        s->die_with_ckpt(on);
    };
    for (const TreeMember& n : tree) {
      if (!n.zombie) held.pids.push_back(n.pid);
    }
    try {
      kill = opts.decide(result, held);
    } catch (...) {
      for (auto& s : sessions)
        s->resume();
      end_tracking_after_failure(pid, opts.prev_dir);
      throw;
    }
  }
  if (kill) files.let_connections_die();
  for (auto& s : sessions) {
    if (kill) {
      s->kill();
    } else {
      s->resume();
    }
  }
  // Only once all are killed, children before parents: the init of a PID namespace dies only
  // after every other process in it has, and those are traced by us too.
  if (kill) {
    for (auto s = sessions.rbegin(); s != sessions.rend(); ++s)
      (*s)->reap_killed();
  }
  if (opts.decide && !kill) end_tracking(pid, opts.prev_dir);
  return result;
}

}  // namespace crossrig::engine
