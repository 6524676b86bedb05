#include "engine/restore.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>

#include "common/hex.h"
#include "common/unique_fd.h"
#include "engine/action_scripts.h"
#include "engine/caller_fd.h"
#include "engine/cgroup_tree.h"
#include "engine/ckpt_error.h"
#include "engine/compat/uapi.h"
#include "engine/event_files.h"
#include "engine/fd_passing.h"
#include "engine/image.h"
#include "engine/lazy_restore.h"
#include "engine/mount_namespace.h"
#include "engine/namespaces.h"
#include "engine/net_namespace.h"
#include "engine/open_files.h"
#include "engine/page_chain.h"
#include "engine/page_files.h"
#include "engine/page_hash.h"
#include "engine/pagemap.h"
#include "engine/phase.h"
#include "engine/post_copy.h"
#include "engine/process_tree.h"
#include "engine/ptrace_task.h"
#include "engine/seccomp.h"
#include "engine/sysv_ipc.h"
#include "engine/task_image.h"
#include "engine/task_info.h"
#include "engine/vma_class.h"

namespace crossrig::engine {
namespace {

// Helper region in the new task: page 0 holds the syscall instruction, page 1 is scratch for
// syscall arguments, the rest receives the kernel's vdso/vvar on their way to their addresses.
constexpr std::size_t kHelperPages = 2 + 62;

constexpr std::uint64_t kRseqFlagUnregister = 1;

// madvise state as smaps VmFlags shows it, and the advice that recreates it.
struct AdviceFlag {
  const char* flag;
  int advice;
};
constexpr AdviceFlag kAdvice[] = {
    {"dd", MADV_DONTDUMP}, {"dc", MADV_DONTFORK},   {"wf", MADV_WIPEONFORK},
    {"hg", MADV_HUGEPAGE}, {"nh", MADV_NOHUGEPAGE},
};

// One live process of the image.
struct ProcImage {
  int ppid = 0;
  TaskImage task;
  std::vector<CoreImage> cores;  ///< The leader's first.
  MmImage mm;
  /// The pages files of the image and of its parents, with the runs each gives.
  std::vector<PageSource> pages;
  SeccompPlan seccomp;  ///< Every thread's filters, in the order of cores.
  bool has_seccomp() const { return !task.seccomp_filters.empty(); }
};

// A child that had exited but was not yet reaped.
struct ZombieImage {
  int pid = 0, ppid = 0, pgid = 0, sid = 0;
  int exit_code = 0;  ///< As wait() reports it.
};

// The process tree: the root first, parents before their children.
struct Image {
  std::vector<ProcImage> procs;
  std::vector<ZombieImage> zombies;
  NamespacesImage namespaces;
  FilesImage files;
  std::vector<std::uint8_t> files_data;
  IpcImage ipc;  ///< For a tree in its own IPC namespace.
  std::vector<std::uint8_t> ipc_data;
  MountsImage mounts;  ///< For a tree in its own mount namespace.
  std::vector<std::uint8_t> mounts_data;
  /// Bytes of each System V segment by id.
  std::uint64_t segment_size(std::uint64_t id) const {
    for (const ShmSegmentImage& s : ipc.shm) {
      if (static_cast<std::uint64_t>(s.id) == id) return s.size;
    }
    return 0;
  }
  const CgroupPlacer* cgroups = nullptr;  ///< Set when processes go back into their cgroups.
  /// The root's connection to ckpt service, in the image of a self-dump.
  std::optional<CallerFd> caller;
};

ProcImage load_process(const ImageReader& r, int pid, int ppid) {
  const std::size_t page = arch::native_arch().page_size;
  ProcImage img;
  img.ppid = ppid;
  std::string id = std::to_string(pid);
  img.task = r.json("task-" + id + ".json").get<TaskImage>();
  img.cores.push_back(r.json("core-" + id + ".json").get<CoreImage>());
  for (int tid : img.task.threads) {
    if (tid != pid)
      img.cores.push_back(r.json("core-" + std::to_string(tid) + ".json").get<CoreImage>());
  }
  img.mm = r.json("mm-" + id + ".json").get<MmImage>();
  const auto pagemap = r.json("pagemap-" + id + ".json").get<std::vector<PagemapEntry>>();
  if (img.task.pid != pid || img.cores.size() != img.task.threads.size())
    throw CkptError(CkptError::kBadImage,
                    "image threads and cores of process " + id + " do not match");
  // Every page run must lie inside a mapping, and those of this image's pages file inside
  // it, in file order.
  std::uint64_t pos = 0;
  for (const PagemapEntry& p : pagemap) {
    std::uint64_t end = p.vaddr + p.npages * page;
    bool inside = std::any_of(img.mm.vmas.begin(), img.mm.vmas.end(), [&](const VmaImage& v) {
      return v.start <= p.vaddr && end <= v.end && end > p.vaddr;
    });
    const bool in_file = !p.in_parent && !p.remote;
    if (!inside || (in_file && p.offset != pos))
      throw CkptError(CkptError::kBadImage, "pagemap entry at vaddr " + std::to_string(p.vaddr) +
                                                " lies outside its mappings or out of order");
    if (in_file) pos += p.npages * page;
  }
  img.pages = page_sources(r, pid, pagemap);
  std::vector<int> lasts;
  for (const CoreImage& c : img.cores)
    lasts.push_back(c.seccomp_filter);
  img.seccomp = plan_seccomp(img.task.seccomp_filters, lasts);
  for (const CoreImage& c : img.cores) {
    if (c.creds.uids.size() != 4 || c.creds.gids.size() != 4)
      throw CkptError(CkptError::kBadImage,
                      "credentials of thread " + std::to_string(c.tid) + " are incomplete");
  }
  return img;
}

}  // namespace

void check_host_fits(const std::string& dir, const nlohmann::json& inv) {
  const arch::Arch& host = arch::native_arch();
  const std::string arch_name = inv.value("arch", "");
  if (arch_name != host.name) {
    throw CkptError(CkptError::kBadImage, "image " + dir + " was dumped on arch " + arch_name +
                                              " (" + inv.value("endianness", "?") +
                                              "-endian); this host is " + std::string(host.name) +
                                              ": restore it on a " + arch_name + " machine");
  }
  const auto image_page = inv.value("page_size", std::size_t{0});
  const auto host_page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (image_page != host_page || host_page != host.page_size) {
    throw CkptError(
        CkptError::kBadImage,
        "image " + dir + " has " + std::to_string(image_page) + "-byte pages; this " +
            std::string(host.name) + " kernel uses " + std::to_string(host_page) + "-byte pages" +
            (host_page != host.page_size
                 ? " and ckpt supports " + std::to_string(host.page_size) + "-byte ones"
                 : "") +
            ": restore it under a kernel built with " + std::to_string(image_page) + "-byte pages");
  }
}

namespace {

Image load(const ImageReader& r) {
  check_host_fits(r.dir(), r.inventory());
  Image img;
  try {
    auto tree = r.json("tree.json");
    int root = tree.at("root").get<int>();
    img.namespaces = tree.at("namespaces").get<NamespacesImage>();
    for (const auto& p : tree.at("processes")) {
      int pid = p.at("pid").get<int>(), ppid = p.at("ppid").get<int>();
      if (p.value("zombie", false)) {
        img.zombies.push_back({pid, ppid, p.at("pgid").get<int>(), p.at("sid").get<int>(),
                               p.at("exit_code").get<int>()});
      } else {
        img.procs.push_back(load_process(r, pid, ppid));
      }
    }
    if (img.procs.empty() || img.procs.front().task.pid != root)
      throw CkptError(CkptError::kBadImage, "tree.json does not start with its root process");
    if (img.namespaces.pid && img.namespaces.in_tree(root) != 1)
      throw CkptError(CkptError::kBadImage,
                      "tree.json: the root of a tree in its own PID namespace is not its pid 1");
    img.files = r.json("files.json").get<FilesImage>();
    img.files_data = r.data("files-data.img");
    if (r.has(kCallerFdFile)) {
      img.caller = parse_caller_fd(r.json(kCallerFdFile));
      const std::vector<FdImage>& fds = img.procs.front().task.fds;
      if (img.caller->pid != root || std::any_of(fds.begin(), fds.end(), [&](const FdImage& f) {
            return f.fd == img.caller->fd;
          }))
        throw CkptError(CkptError::kBadImage,
                        std::string(kCallerFdFile) + " names fd " + std::to_string(img.caller->fd) +
                            " of process " + std::to_string(img.caller->pid) +
                            ", which is not a fd the root's image leaves free");
    }
    if (img.namespaces.ipc) {
      img.ipc = r.json("ipc.json").get<IpcImage>();
      img.ipc_data = r.data("ipc-data.img");
      check_ipc_image(img.ipc, img.ipc_data.size());
    }
    if (img.namespaces.mnt) {
      img.mounts = r.json("mounts.json").get<MountsImage>();
      img.mounts_data = r.data("mounts-data.img");
      check_mounts(img.mounts, img.mounts_data.size());
    }
    std::vector<TaskImage> tasks;
    for (const ProcImage& p : img.procs) {
      tasks.push_back(p.task);
      for (const VmaImage& v : p.mm.vmas) {
        if ((v.kind == "unlinked") != (v.unlinked >= 0) ||
            v.unlinked >= static_cast<int>(img.files.unlinked.size()))
          throw CkptError(CkptError::kBadImage,
                          "mm-" + std::to_string(p.task.pid) + ".json: mapping of " + v.path +
                              " names unlinked file " + std::to_string(v.unlinked));
        if (v.kind == "sysv" && (v.offset > img.segment_size(v.inode) ||
                                 v.end - v.start > img.segment_size(v.inode) - v.offset))
          throw CkptError(CkptError::kBadImage,
                          "mm-" + std::to_string(p.task.pid) + ".json: the mapping at " +
                              std::to_string(v.start) + " lies outside System V segment " +
                              std::to_string(v.inode) + " of ipc.json");
      }
    }
    check_files(img.files, tasks, img.files_data.size());
  } catch (const nlohmann::json::exception& e) {
    throw CkptError(CkptError::kBadImage, std::string("image metadata is malformed: ") + e.what());
  }
  return img;
}

// Shared anonymous mappings a child inherits from its parent at fork and must keep.
bool inherited(const VmaImage& v, const std::vector<VmaImage>& keep) {
  return std::any_of(keep.begin(), keep.end(), [&](const VmaImage& k) {
    return k.start == v.start && k.end == v.end && k.inode == v.inode;
  });
}

std::vector<VmaImage> shared_anon(const MmImage& mm) {
  std::vector<VmaImage> out;
  for (const VmaImage& v : mm.vmas) {
    if (v.shared && v.kind == "anon") out.push_back(v);
  }
  return out;
}

bool overlaps(std::uint64_t a, std::uint64_t b, const std::vector<VmaImage>& vmas) {
  for (const VmaImage& v : vmas) {
    if (a < v.end && v.start < b) return true;
  }
  return false;
}

// Maps the helper region in this process (the child inherits it) where the image has nothing.
std::uint64_t map_helper(const std::vector<VmaImage>& vmas) {
  const arch::Arch& a = arch::native_arch();
  std::size_t len = kHelperPages * a.page_size;
  for (std::uint64_t hint = 1ULL << 32; hint < (1ULL << 46); hint += 1ULL << 36) {
    if (overlaps(hint, hint + len, vmas)) continue;
    void* p = ::mmap(reinterpret_cast<void*>(hint), len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) continue;
    std::memcpy(p, a.syscall_insn.data(), a.syscall_insn.size());
    ::mprotect(p, a.page_size, PROT_READ | PROT_EXEC);
    ::mprotect(static_cast<char*>(p) + 2 * a.page_size, len - 2 * a.page_size, PROT_NONE);
    return reinterpret_cast<std::uint64_t>(p);
  }
  throw CkptError(CkptError::kSystem, "found no free place for the restore helper pages");
}

pid_t clone_with_pid(pid_t pid, const NamespacesImage& ns) {
  clone_args args{};
  args.flags = (ns.uts ? CLONE_NEWUTS : 0) | (ns.ipc ? CLONE_NEWIPC : 0) |
               (ns.net ? CLONE_NEWNET : 0) | (ns.pid ? CLONE_NEWPID : 0) |
               (ns.mnt ? CLONE_NEWNS : 0);
  args.exit_signal = SIGCHLD;
  const std::vector<pid_t> set_tid = ns.set_tid(pid);
  args.set_tid = reinterpret_cast<std::uint64_t>(set_tid.data());
  args.set_tid_size = set_tid.size();
  long r = ::syscall(SYS_clone3, &args, sizeof args);
  if (r == 0) {
    // ckpt's own signal actions are no business of the restored process; cleared here at no
    // cost, only the actions the process had set need an injected rt_sigaction. Raw: libc's
    // sigaction would add its restorer.
    const std::array<std::uint64_t, 8> cleared{};
    for (int sig = 1; sig <= 64; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP)
        ::syscall(SYS_rt_sigaction, sig, cleared.data(), nullptr, sizeof(std::uint64_t));
    }
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    ::raise(SIGSTOP);
    ::_exit(127);
  }
  if (r < 0 && errno == EEXIST) {
    std::string comm;
    try {
      comm = read_file(proc_path(pid, "comm"));
      if (!comm.empty()) comm.pop_back();
    } catch (const std::exception&) {
    }
    throw CkptError(CkptError::kSystem, "PID " + std::to_string(pid) +
                                            " is taken by another process (" + comm +
                                            "); stop it or restore in a new PID namespace");
  }
  if (r < 0)
    throw_errno("clone3 with PID " + std::to_string(pid) +
                (args.flags != 0 ? " in new namespaces" : ""));
  return static_cast<pid_t>(r);
}

// The task being built; killed unless release() was called.
class Builder {
 public:
  /// suspend_seccomp: the process gets seccomp filters, which must not judge the syscalls
  /// injected after them. ns: the tree's namespaces, which name its pids.
  Builder(pid_t pid, std::uint64_t helper, bool suspend_seccomp, const NamespacesImage& ns)
      : t_(Tracee::adopt_stopped_child(pid, suspend_seccomp)),
        ns_(ns),
        helper_(helper),
        suspend_seccomp_(suspend_seccomp) {
    t_.set_sigmask(~0ULL);
  }
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;
  ~Builder() {
    if (!released_) {
      pid_t pid = t_.tid();
      t_.kill_process();
      // A traced thread stays until its tracer reaps it, and the leader until its threads go.
      for (Tracee& t : threads_)
        ::waitpid(t.tid(), nullptr, __WALL);
      ::waitpid(pid, nullptr, __WALL);
    }
  }

  Tracee& tracee() { return t_; }
  /// The pid ckpt knows the process by, which the image names it by.
  pid_t pid() const { return t_.tid(); }
  /// A pid or tid of the image as the process names it in syscalls.
  pid_t in_tree(pid_t pid) const { return ns_.in_tree(pid); }
  const NamespacesImage& namespaces() const { return ns_; }
  /// Threads created so far besides the leader.
  std::vector<Tracee>& threads() { return threads_; }
  void release() { released_ = true; }
  /// Makes the process exit with this code instead of resuming when finished.
  void exit_on_release(int code) { exit_code_ = code; }
  /// Makes the process enter a job-control stop as soon as it is let go.
  void stop_on_release() { stop_ = true; }
  /// Lets every thread run (or the zombie-to-be exit, or the process stop) and stops owning
  /// the process.
  void finish() {
    // Queued while every thread is still held: the first to run takes it and stops the
    // whole group before any of them returns to its own code.
    if (stop_ && ::kill(t_.tid(), SIGSTOP) != 0)
      throw_errno("stopping restored process " + std::to_string(t_.tid()) + " as it was");
    if (exit_code_ >= 0) {
      arch::Regs regs = t_.get_regs();
      const arch::Arch& a = regs.arch();
      regs.set(a.pc, helper_);
      std::uint64_t code = static_cast<std::uint64_t>(exit_code_);
      regs.set_syscall(arch::syscall_nr(a, "exit_group"), std::span(&code, 1));
      t_.set_regs(regs);
    }
    for (Tracee& t : threads_)
      t.detach();
    t_.detach();
    released_ = true;
  }
  std::uint64_t helper() const { return helper_; }
  bool suspend_seccomp() const { return suspend_seccomp_; }
  RemoteAddr scratch() const { return RemoteAddr(helper_ + arch::native_arch().page_size); }

  /// Runs an injected syscall and returns the kernel's result, -errno on failure.
  std::int64_t raw_sys(std::string_view name, std::initializer_list<std::uint64_t> args) {
    return t_.syscall(RemoteAddr(helper_), arch::syscall_nr(arch::native_arch(), name), args);
  }
  /// Runs an injected syscall; throws naming what and the object it was for on failure.
  std::uint64_t sys(std::string_view name, std::initializer_list<std::uint64_t> args,
                    const std::string& object) {
    return sys(t_, name, args, object);
  }
  /// The same, run in thread t.
  std::uint64_t sys(Tracee& t, std::string_view name, std::initializer_list<std::uint64_t> args,
                    const std::string& object) {
    return checked(
        name, t.syscall(RemoteAddr(helper_), arch::syscall_nr(arch::native_arch(), name), args),
        object);
  }
  /// Starts a syscall in the leader and returns while it runs; sys_finish() collects it.
  void sys_start(std::string_view name, std::initializer_list<std::uint64_t> args) {
    t_.syscall_start(RemoteAddr(helper_), arch::syscall_nr(arch::native_arch(), name), args);
  }
  std::uint64_t sys_finish(std::string_view name, const std::string& object) {
    return checked(name, t_.syscall_finish(), object);
  }
  /// Injects mmap, its arguments passed in the scratch page where the arch takes them so.
  std::uint64_t mmap(const std::array<std::uint64_t, 6>& args, const std::string& object) {
    return checked("mmap", inject_mmap(t_, RemoteAddr(helper_), args, scratch()), object);
  }
  /// Copies bytes into the scratch page and returns its address.
  std::uint64_t put(std::span<const std::uint8_t> bytes) {
    if (bytes.size() > arch::native_arch().page_size)
      throw CkptError(CkptError::kBadImage, "argument too long for the scratch page");
    write_remote(pid(), scratch(), bytes);
    return scratch().addr();
  }
  std::uint64_t put_string(const std::string& s) {
    std::string z = s + '\0';
    return put(as_bytes(z));
  }

 private:
  std::uint64_t checked(std::string_view name, std::int64_t r, const std::string& object) {
    if (r < 0 && r > -4096)
      throw CkptError(CkptError::kSystem, std::string(name) + " for " + object + " failed in " +
                                              "restored process " + std::to_string(pid()) + ": " +
                                              std::strerror(static_cast<int>(-r)));
    return static_cast<std::uint64_t>(r);
  }

  Tracee t_;
  const NamespacesImage& ns_;
  std::vector<Tracee> threads_;
  std::uint64_t helper_;
  bool suspend_seccomp_;
  int exit_code_ = -1;
  bool stop_ = false;
  bool released_ = false;
};

void replace_address_space(Builder& b, const MmImage& mm, const std::vector<VmaImage>& keep) {
  const arch::Arch& a = arch::native_arch();
  const std::uint64_t helper_end = b.helper() + kHelperPages * a.page_size;
  auto current = parse_maps(read_file(proc_path(b.pid(), "maps")));
  std::vector<std::pair<MapsEntry, std::string>> specials;
  // Mappings listed one after another have only holes between them, so one munmap takes a
  // whole run of them: a builder inherits some 60 mappings of ckpt's, each an injected
  // syscall otherwise.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> run;
  auto unmap_run = [&] {
    if (run)
      b.sys("munmap", {run->first, run->second - run->first},
            "ckpt's mappings from " + std::to_string(run->first));
    run.reset();
  };
  for (const MapsEntry& e : current) {
    const std::string kind = classify_vma(e).kind;
    if ((e.start >= b.helper() && e.end <= helper_end) || kind == "vsyscall" ||
        std::any_of(keep.begin(), keep.end(),
                    [&](const VmaImage& k) { return k.start == e.start && k.end == e.end; })) {
      unmap_run();
      continue;
    }
    if (is_kernel_special(kind)) {
      unmap_run();
      specials.emplace_back(e, kind);
      continue;
    }
    if (run)
      run->second = e.end;
    else
      run.emplace(e.start, e.end);
  }
  unmap_run();
  // Two steps so that a special mapping never lands on another one still in place.
  std::uint64_t temp = b.helper() + 2 * a.page_size;
  std::vector<std::pair<std::uint64_t, const VmaImage*>> moved;
  for (const auto& [e, kind] : specials) {
    const std::string& wanted = kind;
    auto it = std::find_if(mm.vmas.begin(), mm.vmas.end(),
                           [&](const VmaImage& v) { return v.kind == wanted; });
    if (it == mm.vmas.end()) {
      b.sys("munmap", {e.start, e.end - e.start}, kind);
      continue;
    }
    std::uint64_t len = e.end - e.start;
    if (len != it->end - it->start || temp + len > helper_end)
      throw CkptError(CkptError::kUnsupported,
                      "the [" + kind +
                          "] area differs in size from the image's; restore on the "
                          "kernel that dumped it");
    b.sys("mremap", {e.start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, temp}, "[" + kind + "]");
    moved.emplace_back(temp, &*it);
    temp += len;
  }
  for (const auto& [at, v] : moved)
    b.sys("mremap",
          {at, v->end - v->start, v->end - v->start, MREMAP_MAYMOVE | MREMAP_FIXED, v->start},
          "[" + v->kind + "]");
}

bool is_file_backed(const VmaImage& v) {
  return v.kind == "file" || v.kind == "unlinked";
}

// A shared writable mapping needs a file opened for writing.
bool opens_writable(const VmaImage& v) {
  return v.shared && (v.prot & PROT_WRITE);
}

// The task's fd on the file v maps: opened by its path, or for an unlinked file or memfd
// handed over from ckpt's copy of the inode (opening the channel on first use).
std::uint64_t open_mapped_file(Builder& b, const VmaImage& v, const OpenFiles& files,
                               std::optional<FdChannel>& channel) {
  if (v.kind == "file")
    return b.sys("openat",
                 {static_cast<std::uint64_t>(AT_FDCWD), b.put_string(v.path),
                  static_cast<std::uint64_t>(opens_writable(v) ? O_RDWR : O_RDONLY), 0},
                 v.path);
  if (!channel) {
    auto opened =
        FdChannel::open(b.pid(), b.scratch(),
                        [&b](std::string_view name, std::initializer_list<std::uint64_t> args) {
                          return b.raw_sys(name, args);
                        });
    if (opened) channel.emplace(std::move(*opened));
  }
  std::optional<int> got;
  if (channel) got = channel->pass(files.inode_fd(v.unlinked));
  if (!got)
    throw CkptError(CkptError::kSystem, "handing " + v.path + " to restored process " +
                                            std::to_string(b.pid()) + " to map it failed");
  return static_cast<std::uint64_t>(*got);
}

// Attaches System V segment v.inode at v.start, the start of an attachment (the dump checked
// that a mapping at another offset continues the one below it), unmapping what the process
// had unmapped of its end. Its namespace was made before the process.
void attach_segment(Builder& b, const MmImage& mm, std::size_t i, std::uint64_t segment_size) {
  const VmaImage& v = mm.vmas[i];
  if (v.offset != 0) return;
  const std::uint64_t page = arch::native_arch().page_size;
  // Read-only by what mprotect may grant (VmFlags mw), not by the current protection, which
  // protect_vmas sets.
  const std::uint64_t flags =
      (v.has_flag("mw") ? 0 : SHM_RDONLY) | ((v.prot & PROT_EXEC) ? SHM_EXEC : 0);
  const std::string what = "System V segment " + std::to_string(v.inode);
  b.sys("shmat", {v.inode, v.start, flags}, what);
  std::uint64_t end = v.end;
  for (std::size_t j = i + 1; j < mm.vmas.size(); ++j) {
    const VmaImage& next = mm.vmas[j];
    if (next.kind != "sysv" || next.inode != v.inode || next.start != end || next.offset == 0)
      break;
    end = next.end;
  }
  const std::uint64_t attached_end = v.start + (segment_size + page - 1) / page * page;
  if (end < attached_end) b.sys("munmap", {end, attached_end - end}, what);
}

// Private memory is mapped writable until its pages are in; protect_vmas then sets what the
// image says where that differs.
int mapped_prot(const VmaImage& v) {
  return v.prot | (is_file_backed(v) && v.shared ? 0 : PROT_READ | PROT_WRITE);
}

void map_vmas(Builder& b, const MmImage& mm, const std::vector<VmaImage>& keep,
              const OpenFiles& files, const Image& img) {
  std::optional<FdChannel> channel;
  // A file is opened once for all its mappings (a library has four or five): by path, the
  // unlinked inode (-1 for a file with a name) and access mode.
  std::map<std::tuple<std::string, int, bool>, std::uint64_t> opened;
  for (std::size_t i = 0; i < mm.vmas.size(); ++i) {
    const VmaImage& v = mm.vmas[i];
    if (is_kernel_special(v.kind) || inherited(v, keep)) continue;
    if (v.kind == "sysv") {
      attach_segment(b, mm, i, img.segment_size(v.inode));
      continue;
    }
    bool anon = !is_file_backed(v);
    int flags = (v.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED | (anon ? MAP_ANONYMOUS : 0);
    if (v.has_flag("gd")) flags |= MAP_GROWSDOWN;
    const int prot = mapped_prot(v);
    std::string what = anon ? "anonymous mapping" : "mapping of " + v.path;
    if (anon) {
      b.mmap({v.start, v.end - v.start, static_cast<std::uint64_t>(prot),
              static_cast<std::uint64_t>(flags), ~0ULL, 0},
             what);
    } else {
      const auto key = std::make_tuple(v.path, v.unlinked, opens_writable(v));
      auto fd = opened.find(key);
      if (fd == opened.end())
        fd = opened.emplace(key, open_mapped_file(b, v, files, channel)).first;
      b.mmap({v.start, v.end - v.start, static_cast<std::uint64_t>(prot),
              static_cast<std::uint64_t>(flags), fd->second, v.offset},
             what);
    }
  }
  for (const auto& [key, fd] : opened)
    b.sys("close", {fd}, std::get<0>(key));
  if (channel) channel->close();
}

// Debian 12's glibc headers predate MADV_COLLAPSE (Linux 6.1).
constexpr std::uint64_t kMadvCollapse = 25;

// Bytes of a PMD-sized transparent huge page; 0 when the kernel offers none.
std::uint64_t huge_page_size() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
  std::uint64_t n = 0;
  f >> n;
  return f ? n : 0;
}

// Private anonymous memory can sit in huge pages without changing anything smaps shows of
// the mapping but AnonHugePages; "nh" mappings asked not to.
bool may_use_huge_pages(const VmaImage& v) {
  return !v.shared && !is_file_backed(v) && !is_kernel_special(v.kind) && !v.has_flag("nh");
}

// Backs the whole huge-page blocks of [begin, end) with huge pages. Faulting fresh anonymous
// memory costs a trap per 4 KiB page (dearest under virtualization), which made restore
// several times slower than copying the pages file; MADV_COLLAPSE gives huge pages without
// setting VM_HUGEPAGE as MADV_HUGEPAGE would. It needs one present page per block: ckpt
// writes each block's first page from the image. A refusal (THP disabled) only costs speed.
void collapse_blocks(Builder& b, std::uint64_t begin, std::uint64_t end, std::uint64_t block,
                     const std::uint8_t* first_page_data) {
  const std::size_t ps = arch::native_arch().page_size;
  std::vector<iovec> local, remote;
  for (std::uint64_t at = begin; at < end; at += block) {
    local.push_back({const_cast<std::uint8_t*>(first_page_data + (at - begin)), ps});
    remote.push_back({reinterpret_cast<void*>(at), ps});
  }
  const std::size_t max_iov = static_cast<std::size_t>(::sysconf(_SC_IOV_MAX));
  for (std::size_t i = 0; i < local.size(); i += max_iov) {
    std::size_t n = std::min(max_iov, local.size() - i);
    if (::process_vm_writev(b.pid(), &local[i], n, &remote[i], n, 0) !=
        static_cast<ssize_t>(n * ps))
      throw_errno("writing pages into restored process " + std::to_string(b.pid()));
  }
  b.tracee().syscall(RemoteAddr(b.helper()), arch::syscall_nr(arch::native_arch(), "madvise"),
                     {begin, end - begin, kMadvCollapse});
}

const VmaImage* vma_at(const MmImage& mm, std::uint64_t vaddr) {
  auto it = std::find_if(mm.vmas.begin(), mm.vmas.end(),
                         [&](const VmaImage& v) { return v.start <= vaddr && vaddr < v.end; });
  return it == mm.vmas.end() ? nullptr : &*it;
}

// Whether runs read the whole file of size bytes, from its start, in order.
bool reads_whole_file(const std::vector<PagemapEntry>& runs, std::uint64_t size) {
  const std::size_t ps = arch::native_arch().page_size;
  std::uint64_t pos = 0;
  for (const PagemapEntry& p : runs) {
    if (p.offset != pos) return false;
    pos += p.npages * ps;
  }
  return pos == size;
}

// The task reads its pages straight from an image file (one copy, faults taken in its own
// context); runs of a few pages (a lazy restore's stacks, a chain's changed pages) ckpt writes
// itself, which spares the injected syscalls. When the runs cover the whole file in order,
// ckpt hashes the same bytes meanwhile; otherwise (a parent image's file, or a lazy restore
// leaving most pages for later) each chunk is checked before it is copied.
void fill_from(Builder& b, const ProcImage& img, const PageSource& src,
               const std::vector<PagemapEntry>& runs, PageFiles& files, std::size_t index,
               const std::vector<VmaImage>& keep) {
  if (runs.empty()) return;
  const std::span<const std::uint8_t> file = files.unchecked(index);
  const bool streamed = reads_whole_file(runs, file.size());
  PageHash hash;
  std::optional<std::uint64_t> remote_fd;
  const std::size_t ps = arch::native_arch().page_size;
  const std::uint64_t huge = huge_page_size();
  constexpr std::size_t kChunk = 16 << 20;
  // Below this, the ptrace round trips of madvise and pread64 cost more than ckpt's copy.
  constexpr std::size_t kCopiedByCkpt = 256 << 10;
  for (const PagemapEntry& p : runs) {
    std::size_t len = p.npages * ps;
    if (p.offset > file.size() || len > file.size() - p.offset)
      throw CkptError(CkptError::kBadImage, src.path + " is shorter than its pagemap says");
    bool skip = std::any_of(keep.begin(), keep.end(), [&](const VmaImage& k) {
      return k.start <= p.vaddr && p.vaddr < k.end;
    });
    if (skip) {
      // The parent already filled this shared memory; only check the bytes.
      if (streamed) hash.update(file.subspan(p.offset, len));
      continue;
    }
    if (!streamed) files.bytes(index, p.offset, len);
    if (len <= kCopiedByCkpt) {
      const auto bytes = file.subspan(p.offset, len);
      write_remote(b.pid(), RemoteAddr(p.vaddr), bytes);
      if (streamed) hash.update(bytes);
      continue;
    }
    if (!remote_fd)
      remote_fd = b.sys(
          "openat",
          {static_cast<std::uint64_t>(AT_FDCWD), b.put_string(src.path), O_RDONLY | O_CLOEXEC, 0},
          src.path);
    const VmaImage* vma = vma_at(img.mm, p.vaddr);
    if (auto [hb, he] = whole_blocks(p.vaddr, len, huge);
        hb != he && vma && may_use_huge_pages(*vma))
      collapse_blocks(b, hb, he, huge, file.data() + p.offset + (hb - p.vaddr));
    // Populating in one call spares a fault per page the huge pages did not cover.
    b.sys("madvise", {p.vaddr, len, MADV_POPULATE_WRITE}, "pages at " + std::to_string(p.vaddr));
    for (std::size_t done = 0; done < len;) {
      auto chunk = file.subspan(p.offset + done, std::min(kChunk, len - done));
      b.sys_start("pread64", {*remote_fd, p.vaddr + done, chunk.size(), p.offset + done});
      if (streamed) hash.update(chunk);
      std::uint64_t got = b.sys_finish("pread64", src.path);
      while (got < chunk.size()) {
        std::uint64_t n =
            b.sys("pread64",
                  {*remote_fd, p.vaddr + done + got, chunk.size() - got, p.offset + done + got},
                  src.path);
        if (n == 0) throw CkptError(CkptError::kBadImage, src.path + " ended early");
        got += n;
      }
      done += chunk.size();
    }
  }
  if (remote_fd) b.sys("close", {*remote_fd}, src.path);
  if (streamed && hash.digest() != src.xxh3)
    throw CkptError(CkptError::kBadImage, src.path + " fails its XXH3 check (corrupted)");
}

// Fills the pages of the process now, except, when lazy is given, those that may wait for
// their first touch: they go to lazy's missing pages, with the files they come from.
void fill_pages(Builder& b, const ProcImage& img, const std::vector<VmaImage>& keep,
                LazySpace* lazy) {
  const std::size_t ps = arch::native_arch().page_size;
  // Populated at once for an eager restore, which hashes most of each file: hashing through
  // read faults costs one trap per few pages.
  auto files = std::make_shared<PageFiles>(img.pages, lazy == nullptr);
  const std::vector<std::uint64_t> eager = pages_needed_at_once(img.cores, ps);
  for (std::size_t i = 0; i < img.pages.size(); ++i) {
    const PageSource& src = img.pages[i];
    fill_from(b, img, src,
              lazy ? defer_lazy_runs(src, i, img.mm, eager, ps, lazy->missing) : src.runs, *files,
              i, keep);
  }
  if (lazy) lazy->files = std::move(files);
}

// Before the pages go in, so that "hg" mappings fault huge pages as the dumped ones did.
void advise_vmas(Builder& b, const MmImage& mm) {
  for (const VmaImage& v : mm.vmas) {
    if (is_kernel_special(v.kind)) continue;
    for (const AdviceFlag& f : kAdvice) {
      if (v.has_flag(f.flag))
        b.sys("madvise", {v.start, v.end - v.start, static_cast<std::uint64_t>(f.advice)},
              std::string("VmFlag ") + f.flag);
    }
  }
}

void protect_vmas(Builder& b, const MmImage& mm, const std::vector<VmaImage>& keep) {
  for (const VmaImage& v : mm.vmas) {
    if (is_kernel_special(v.kind)) continue;
    if (v.kind != "sysv" && !inherited(v, keep) && mapped_prot(v) == v.prot) continue;
    b.sys("mprotect", {v.start, v.end - v.start, static_cast<std::uint64_t>(v.prot)},
          "mapping at " + std::to_string(v.start));
  }
}

// keep_exe: a forked child already has the right exe, and the kernel refuses to replace an
// exe that is still mapped.
void set_mm_fields(Builder& b, const MmImage& mm, bool keep_exe) {
  std::uint64_t exe_fd = keep_exe ? ~0ULL
                                  : b.sys("openat",
                                          {static_cast<std::uint64_t>(AT_FDCWD),
                                           b.put_string(mm.exe), O_RDONLY | O_CLOEXEC, 0},
                                          "executable " + mm.exe);
  prctl_mm_map m{};
  m.start_code = mm.start_code;
  m.end_code = mm.end_code;
  m.start_data = mm.start_data;
  m.end_data = mm.end_data;
  m.start_brk = mm.start_brk;
  m.brk = mm.brk;
  m.start_stack = mm.start_stack;
  m.arg_start = mm.arg_start;
  m.arg_end = mm.arg_end;
  m.env_start = mm.env_start;
  m.env_end = mm.env_end;
  m.auxv_size = static_cast<std::uint32_t>(mm.auxv.size() * sizeof(std::uint64_t));
  m.exe_fd = static_cast<std::uint32_t>(exe_fd);
  std::vector<std::uint8_t> buf(sizeof m + m.auxv_size);
  m.auxv = reinterpret_cast<__u64*>(b.scratch().addr() + sizeof m);
  std::memcpy(buf.data(), &m, sizeof m);
  std::memcpy(buf.data() + sizeof m, mm.auxv.data(), m.auxv_size);
  b.sys("prctl", {PR_SET_MM, PR_SET_MM_MAP, b.put(buf), sizeof m, 0}, "mm fields (PR_SET_MM_MAP)");
  if (!keep_exe) b.sys("close", {exe_fd}, "executable");
}

// Hands the task each of its descriptions (opened by ckpt) at its fd number, and the socket
// that answers its call to ckpt service at that connection's fd.
void install_fds(Builder& b, const TaskImage& t, const OpenFiles& files, const CallerFd* caller) {
  int floor = caller ? caller->fd + 1 : 0;
  for (const FdImage& f : t.fds)
    floor = std::max(floor, f.fd + 1);
  auto channel = FdChannel::open(
      b.pid(), b.scratch(),
      [&b](std::string_view name, std::initializer_list<std::uint64_t> args) {
        return b.raw_sys(name, args);
      },
      floor);
  if (!channel)
    throw CkptError(CkptError::kSystem, "restored process " + std::to_string(b.pid()) +
                                            " could not open the unix socket its files come by");
  // Puts ours at fd number `at` in the task.
  auto hand = [&](int ours, int at, bool cloexec, const std::string& what) {
    auto got = channel->pass(ours);
    if (!got)
      throw CkptError(CkptError::kSystem, "handing " + what + " to restored process " +
                                              std::to_string(b.pid()) + " failed");
    const auto fd = static_cast<std::uint64_t>(at), theirs = static_cast<std::uint64_t>(*got);
    if (theirs != fd) {
      b.sys("dup3", {theirs, fd, static_cast<std::uint64_t>(cloexec ? O_CLOEXEC : 0)}, what);
      b.sys("close", {theirs}, what);
    } else if (!cloexec) {
      b.sys("fcntl", {fd, F_SETFD, 0}, what);
    }
  };
  if (caller) {
    hand(replay_socket(caller->reply).get(), caller->fd, caller->cloexec,
         "fd " + std::to_string(caller->fd) + " (the connection to ckpt service)");
  }
  for (const FdImage& f : t.fds) {
    std::string what = "fd " + std::to_string(f.fd);
    hand(files.fd(f.file), f.fd, f.cloexec, what);
    const auto fd = static_cast<std::uint64_t>(f.fd);
    // A POSIX lock belongs to the process that sets it.
    for (const LockImage& lock : f.locks) {
      const struct flock fl = lock_request(lock);
      b.sys("fcntl",
            {fd, F_SETLK, b.put(std::span(reinterpret_cast<const std::uint8_t*>(&fl), sizeof fl))},
            "POSIX lock on " + what);
    }
  }
  channel->close();
}

// An epoll watch is keyed by the target's fd number: the process registers it on its own fds.
void add_epoll_watches(Builder& b, const TaskImage& t, const FilesImage& files) {
  for (const EpollCtl& c : epoll_ctls(files, t)) {
    epoll_event ev{};
    ev.events = c.events;
    ev.data.u64 = c.data;
    b.sys("epoll_ctl",
          {static_cast<std::uint64_t>(c.epfd), EPOLL_CTL_ADD, static_cast<std::uint64_t>(c.fd),
           b.put(std::span(reinterpret_cast<const std::uint8_t*>(&ev), sizeof ev))},
          "the watch of fd " + std::to_string(c.fd) + " by the epoll of fd " +
              std::to_string(c.epfd));
  }
}

void set_task_state(Builder& b, const TaskImage& t, const OpenFiles& files,
                    const CallerFd* caller) {
  for (const SigactionImage& s : t.sigactions) {
    // Every builder starts with all actions cleared (clone_with_pid), as a process that never
    // set one has them.
    if (s.handler == 0 && s.flags == 0 && s.restorer == 0 && s.mask == 0) continue;
    std::uint64_t ksa[4] = {s.handler, s.flags, s.restorer, s.mask};
    b.sys("rt_sigaction",
          {static_cast<std::uint64_t>(s.sig),
           b.put(std::span(reinterpret_cast<const std::uint8_t*>(ksa), sizeof ksa)), 0,
           sizeof(std::uint64_t)},
          "signal " + std::to_string(s.sig));
  }
  b.sys("umask", {t.umask}, "umask");
  b.sys("chdir", {b.put_string(t.cwd)}, "cwd " + t.cwd);
  b.sys("prctl", {PR_SET_NAME, b.put_string(t.comm), 0, 0, 0}, "comm");
  install_fds(b, t, files, caller);
  // Last among the paths: every path above is as ckpt sees it, outside the task's root.
  if (t.root != "/") b.sys("chroot", {b.put_string(t.root)}, "root directory " + t.root);
  for (const RlimitImage& r : t.rlimits) {
    rlimit64 lim{r.cur, r.max};
    if (::prlimit64(b.pid(), static_cast<__rlimit_resource>(r.resource), &lim, nullptr) != 0)
      throw_errno("setting rlimit " + std::to_string(r.resource) + " of restored process " +
                  std::to_string(b.pid()));
  }
}

std::uint64_t put_siginfo(Builder& b, const std::string& hex, int* signo) {
  auto info = from_hex(hex);
  if (!info || info->size() != sizeof(siginfo_t))
    throw CkptError(CkptError::kBadImage, "pending signal record is malformed");
  siginfo_t si{};
  std::memcpy(&si, info->data(), sizeof si);
  *signo = si.si_signo;
  return b.put(*info);
}

// Signals queued to the whole process; like every queued signal they stay pending under the
// all-blocked mask until each thread's own mask is set last.
void set_shared_signals(Builder& b, const TaskImage& t) {
  for (const auto& hex : t.shared_pending) {
    int sig = 0;
    std::uint64_t at = put_siginfo(b, hex, &sig);
    b.sys("rt_sigqueueinfo",
          {static_cast<std::uint64_t>(b.in_tree(b.pid())), static_cast<std::uint64_t>(sig), at},
          "pending signal " + std::to_string(sig));
  }
}

// A thread's vector regsets as (note, bytes), in the arch's order.
std::vector<std::pair<unsigned, std::vector<std::uint8_t>>> vector_regsets(const arch::Arch& a,
                                                                           const CoreImage& c) {
  std::vector<std::pair<unsigned, std::vector<std::uint8_t>>> out;
  for (const auto& entry : c.vector) {
    const std::string& name = entry.first;  // a plain name: lambdas cannot capture bindings
    auto v = std::find_if(a.vector_regsets.begin(), a.vector_regsets.end(),
                          [&](const arch::VectorRegset& r) { return r.name == name; });
    auto bytes = from_hex(entry.second);
    if (v == a.vector_regsets.end() || !bytes)
      throw CkptError(CkptError::kBadImage, "vector regset '" + name + "' of thread " +
                                                std::to_string(c.tid) + " is not one of " +
                                                std::string(a.name) + "'s or not hex");
    out.emplace_back(v->note, std::move(*bytes));
  }
  return out;
}

// Per-thread kernel state, set by syscalls run in that thread.
void set_thread_state(Builder& b, Tracee& t, const CoreImage& c) {
  std::string who = "thread " + std::to_string(c.tid);
  if (c.rseq_ptr != 0)
    b.sys(t, "rseq", {c.rseq_ptr, c.rseq_size, 0, c.rseq_sig}, "rseq area of " + who);
  if (!(c.altstack_flags & SS_DISABLE)) {
    stack_t st{};
    st.ss_sp = reinterpret_cast<void*>(c.altstack_sp);
    st.ss_flags = c.altstack_flags & ~SS_ONSTACK;
    st.ss_size = c.altstack_size;
    b.sys(t, "sigaltstack",
          {b.put(std::span(reinterpret_cast<const std::uint8_t*>(&st), sizeof st)), 0},
          "sigaltstack of " + who);
  }
  b.sys(t, "set_tid_address", {c.clear_tid}, "clear-child-tid of " + who);
  if (c.robust_head != 0)
    b.sys(t, "set_robust_list", {c.robust_head, c.robust_len}, "robust futex list of " + who);
  for (const auto& hex : c.pending) {
    int sig = 0;
    std::uint64_t at = put_siginfo(b, hex, &sig);
    b.sys(t, "rt_tgsigqueueinfo",
          {static_cast<std::uint64_t>(b.in_tree(b.pid())),
           static_cast<std::uint64_t>(b.in_tree(c.tid)), static_cast<std::uint64_t>(sig), at},
          "pending signal " + std::to_string(sig) + " of " + who);
  }
}

// Credentials go last, thread by thread (the kernel keeps them per thread): the steps
// before need root's capabilities.
void set_creds(Builder& b, Tracee& t, const CredsImage& c, int tid) {
  std::string who = "credentials of thread " + std::to_string(tid);
  auto u = [](auto v) { return static_cast<std::uint64_t>(v); };
  b.sys(t, "personality", {c.personality}, "personality of thread " + std::to_string(tid));
  b.sys(t, "prctl", {PR_SET_KEEPCAPS, 1, 0, 0, 0}, who);
  for (int cap = 0; cap < 64; ++cap) {
    if (!(c.cap_bnd & (1ULL << cap)) && ::prctl(PR_CAPBSET_READ, cap) == 1)
      b.sys(t, "prctl", {PR_CAPBSET_DROP, u(cap), 0, 0, 0},
            "bounding set of thread " + std::to_string(tid));
  }
  b.sys(t, "setgroups",
        {c.groups.size(), b.put(std::span(reinterpret_cast<const std::uint8_t*>(c.groups.data()),
                                          c.groups.size() * sizeof(std::uint32_t)))},
        who);
  b.sys(t, "setresgid", {c.gids[0], c.gids[1], c.gids[2]}, who);
  b.sys(t, "setresuid", {c.uids[0], c.uids[1], c.uids[2]}, who);
  struct {
    std::uint32_t version;
    int pid;
    std::uint32_t data[6];  // {effective, permitted, inheritable} for caps 0-31, then 32-63
  } caps{
      0x20080522,
      0,
      {static_cast<std::uint32_t>(c.cap_eff), static_cast<std::uint32_t>(c.cap_prm),
       static_cast<std::uint32_t>(c.cap_inh), static_cast<std::uint32_t>(c.cap_eff >> 32),
       static_cast<std::uint32_t>(c.cap_prm >> 32), static_cast<std::uint32_t>(c.cap_inh >> 32)}};
  std::uint64_t at = b.put(std::span(reinterpret_cast<const std::uint8_t*>(&caps), sizeof caps));
  b.sys(t, "capset", {at, at + 8}, who);
  b.sys(t, "prctl", {PR_SET_KEEPCAPS, 0, 0, 0, 0}, who);
  if (c.no_new_privs) b.sys(t, "prctl", {PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0}, who);
}

// Installs every thread's seccomp filters: the threads' common ones once in the leader with
// TSYNC (so they are shared again), then each thread's own. Before the credentials, while the
// task still holds CAP_SYS_ADMIN: a task that dropped it after installing filters without
// no_new_privs could not install them again. The filters do not judge the syscalls injected
// after them (PTRACE_O_SUSPEND_SECCOMP) until the task is detached.
void restore_seccomp(Builder& b, const ProcImage& p) {
  if (!p.has_seccomp()) return;
  std::size_t longest = 0;
  for (const SeccompFilterImage& f : p.task.seccomp_filters)
    longest = std::max(longest, f.insns.size() / 2);
  // A program may be longer than the scratch page: 4096 instructions of 8 bytes.
  const std::uint64_t page = arch::native_arch().page_size;
  const std::uint64_t len = (sizeof(sock_fprog) + longest + page - 1) / page * page;
  const std::uint64_t area =
      b.mmap({0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, ~0ULL, 0},
             "seccomp filter buffer");
  auto install = [&](Tracee& t, const SeccompFilter& f, std::uint64_t flags, int tid) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(f.insns.size() / sizeof(sock_filter));
    prog.filter = reinterpret_cast<sock_filter*>(area + sizeof prog);
    write_remote(b.pid(), RemoteAddr(area),
                 std::span(reinterpret_cast<const std::uint8_t*>(&prog), sizeof prog));
    write_remote(b.pid(), RemoteAddr(area + sizeof prog), f.insns);
    b.sys(t, "seccomp", {SECCOMP_SET_MODE_FILTER, f.flags | flags, area},
          "seccomp filter of thread " + std::to_string(tid));
  };
  const std::uint64_t tsync = p.cores.size() > 1 ? SECCOMP_FILTER_FLAG_TSYNC : 0;
  for (const SeccompFilter& f : p.seccomp.shared)
    install(b.tracee(), f, tsync, p.cores.front().tid);
  for (std::size_t i = 0; i < p.cores.size(); ++i) {
    Tracee& t = i == 0 ? b.tracee() : b.threads()[i - 1];
    for (const SeccompFilter& f : p.seccomp.own[i])
      install(t, f, 0, p.cores[i].tid);
  }
  b.sys("munmap", {area, len}, "seccomp filter buffer");
}

// Makes a thread or process (flags, exit_signal) under the pid the image names it by, in
// every PID namespace ckpt sees it in.
void clone_as(Builder& b, std::uint64_t flags, std::uint64_t exit_signal, int pid,
              const std::string& what) {
  struct {
    clone_args args;
    pid_t set_tid[2];
  } req{};
  const std::vector<pid_t> set_tid = b.namespaces().set_tid(pid);
  req.args.flags = flags;
  req.args.exit_signal = exit_signal;
  req.args.set_tid = b.scratch().addr() + offsetof(decltype(req), set_tid);
  req.args.set_tid_size = set_tid.size();
  std::copy(set_tid.begin(), set_tid.end(), req.set_tid);
  std::uint64_t at = b.put(std::span(reinterpret_cast<const std::uint8_t*>(&req), sizeof req));
  std::uint64_t got = b.sys("clone3", {at, sizeof req.args}, what);
  if (got != static_cast<std::uint64_t>(set_tid.front()))
    throw CkptError(CkptError::kSystem, what + " was created as " + std::to_string(got));
}

// Creates a thread with the dumped TID by a clone3 run in the leader; it starts stopped under
// ptrace (PTRACE_O_TRACECLONE) and never runs user code before its registers are set.
void create_thread(Builder& b, int tid) {
  clone_as(b, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, 0,
           tid, "thread " + std::to_string(tid));
  b.threads().push_back(Tracee::adopt_stopped_child(tid, b.suspend_seccomp()));
}

// Every process being built, the root first; all are killed unless released, children
// first: the init of a PID namespace does not finish exiting until its children are reaped,
// and ckpt, their tracer, must reap them first.
class Builders : public std::vector<std::unique_ptr<Builder>> {
 public:
  Builders() = default;
  Builders(const Builders&) = delete;
  Builders& operator=(const Builders&) = delete;
  ~Builders() {
    while (!empty())
      pop_back();
  }
};

// A child of b's process with PID pid, made by a fork (clone3 with set_tid) run in it and
// caught by PTRACE_O_TRACEFORK; it shares the parent's memory as it is at that moment.
Builder& fork_child(Builder& b, int pid, bool suspend_seccomp, Builders& all) {
  clone_as(b, 0, SIGCHLD, pid, "child " + std::to_string(pid));
  all.push_back(std::make_unique<Builder>(pid, b.helper(), suspend_seccomp, b.namespaces()));
  return *all.back();
}

// The interval timers, then the POSIX timers under their ids: by asking for each id where the
// kernel takes requests (PR_TIMER_CREATE_RESTORE_IDS), else by making timers in order (ids
// count up from 0 in a new process) and deleting the ones in between.
void restore_timers(Builder& b, const TaskImage& t) {
  const std::string owner = " of process " + std::to_string(t.pid);
  for (const ItimerImage& it : t.itimers) {
    itimerval v{{it.interval_sec, it.interval_usec}, {it.value_sec, it.value_usec}};
    b.sys("setitimer",
          {static_cast<std::uint64_t>(it.which),
           b.put(std::span(reinterpret_cast<const std::uint8_t*>(&v), sizeof v)), 0},
          "interval timer " + std::to_string(it.which) + owner);
  }
  if (t.posix_timers.empty()) return;
  const bool by_id = b.raw_sys("prctl", {PR_TIMER_CREATE_RESTORE_IDS,
                                         PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0}) == 0;
  // Without it, an id this far up would take too many timers made and deleted on the way.
  constexpr int kMaxCountedId = 65536;
  for (const PosixTimerImage& pt : t.posix_timers) {
    const std::string what = "POSIX timer " + std::to_string(pt.id) + owner;
    if (!by_id && pt.id > kMaxCountedId)
      throw CkptError(CkptError::kUnsupported,
                      what +
                          ": this kernel cannot make a timer under a chosen id "
                          "(PR_TIMER_CREATE_RESTORE_IDS, Linux 6.17) and the id is too high to "
                          "reach by counting; restore on a newer kernel");
    struct {
      sigevent ev;
      int id;
    } req{};
    req.ev.sigev_value.sival_ptr = reinterpret_cast<void*>(pt.sigval);
    req.ev.sigev_signo = pt.signo;
    req.ev.sigev_notify = pt.notify;
    if (pt.notify & SIGEV_THREAD_ID) req.ev._sigev_un._tid = b.in_tree(pt.tid);
    for (;;) {
      req.id = pt.id;
      const std::uint64_t at =
          b.put(std::span(reinterpret_cast<const std::uint8_t*>(&req), sizeof req));
      b.sys("timer_create",
            {static_cast<std::uint64_t>(pt.clockid), at, at + offsetof(decltype(req), id)}, what);
      int got = 0;
      read_remote(b.pid(), RemoteAddr(at + offsetof(decltype(req), id)),
                  std::span(reinterpret_cast<std::uint8_t*>(&got), sizeof got));
      if (got == pt.id) break;
      b.sys("timer_delete", {static_cast<std::uint64_t>(got)}, what);
      if (by_id || got > pt.id)
        throw CkptError(CkptError::kSystem, what + " was made as timer " + std::to_string(got));
    }
    const itimerspec v{{pt.interval_sec, pt.interval_nsec}, {pt.value_sec, pt.value_nsec}};
    if (pt.value_sec != 0 || pt.value_nsec != 0)
      b.sys("timer_settime",
            {static_cast<std::uint64_t>(pt.id), 0,
             b.put(std::span(reinterpret_cast<const std::uint8_t*>(&v), sizeof v)), 0},
            what);
  }
  if (by_id)
    b.sys("prctl", {PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0},
          "timer ids" + owner);
}

// Puts the process m into its session and process group, as grouping_of() says.
void set_grouping(Builder& b, const TreeMember& m, const TreeMember* parent) {
  const std::string what = "session and process group of process " + std::to_string(m.pid);
  switch (grouping_of(m, parent)) {
    case Grouping::kInherit:
      return;
    case Grouping::kNewSession:
      b.sys("setsid", {}, what);
      return;
    case Grouping::kNewGroup:
      b.sys("setpgid", {0, 0}, what);
      return;
    case Grouping::kJoinGroup:
      b.sys("setpgid", {0, static_cast<std::uint64_t>(b.in_tree(m.pgid))}, what);
      return;
  }
}

// Rebuilds one process, forking its children and zombies from it once its memory is in
// place, and leaves it stopped with its final registers.
void restore_process(Builder& b, const ProcImage& p, const ProcImage* parent, const Image& img,
                     const OpenFiles& files, Builders& all, const RestoreOptions& opts,
                     const std::string& terminal, std::vector<LazySpace>& lazy_spaces) {
  // Before it runs anything of its own; its threads and children are created in them.
  if (img.cgroups != nullptr) img.cgroups->join(b.pid());
  const bool detach = opts.detach;
  const std::vector<VmaImage> parent_shared =
      parent ? shared_anon(parent->mm) : std::vector<VmaImage>{};
  const arch::Arch& a = arch::native_arch();
  std::vector<std::vector<std::uint8_t>> fps;
  std::vector<std::vector<std::pair<unsigned, std::vector<std::uint8_t>>>> vectors;
  std::vector<arch::Regs> regs;
  for (const CoreImage& c : p.cores) {
    auto fp = from_hex(c.fp);
    if (!fp)
      throw CkptError(CkptError::kBadImage,
                      "FP state of thread " + std::to_string(c.tid) + " is not hex");
    fps.push_back(std::move(*fp));
    vectors.push_back(vector_regsets(a, c));
    regs.push_back(regs_from_names(a, c.regs));
  }
  enter_phase("check-cpu");
  if (auto why = a.fp_incompatibility(fps.front(), b.tracee().get_fp()))
    throw CkptError(CkptError::kUnsupported, "this CPU cannot restore the image: " + *why);
  for (const auto& [note, bytes] : vectors.front()) {
    auto host = b.tracee().get_regset(note);
    if (!host || host->size() != bytes.size())
      throw CkptError(
          CkptError::kUnsupported,
          "this CPU cannot restore the image: its threads use vector regset " +
              std::to_string(note) + " (" + std::to_string(bytes.size()) +
              " bytes), which this CPU " +
              (host ? "holds in " + std::to_string(host->size()) + " bytes" : "does not have"));
  }
  enter_phase("mm");
  b.sys("close_range", {0, ~0U, 0}, "inherited fds");
  // The kernel writes to a registered rseq area on every return to user space; the area
  // inherited from ckpt is about to be unmapped.
  if (RseqConfig inherited_rseq = b.tracee().get_rseq(); inherited_rseq.ptr != 0)
    b.sys("rseq",
          {inherited_rseq.ptr, inherited_rseq.size, kRseqFlagUnregister, inherited_rseq.signature},
          "inherited rseq area");
  std::vector<VmaImage> kept;
  for (const VmaImage& v : p.mm.vmas) {
    if (inherited(v, parent_shared)) kept.push_back(v);
  }
  replace_address_space(b, p.mm, kept);
  map_vmas(b, p.mm, kept, files, img);
  advise_vmas(b, p.mm);
  enter_phase("pages");
  std::optional<LazySpace> lazy;
  if (opts.lazy_pages) lazy.emplace(LazySpace{p.task.pid, {}, nullptr, MissingPages(a.page_size)});
  fill_pages(b, p, kept, lazy ? &*lazy : nullptr);
  if (lazy && !lazy->missing.empty())
    lazy->uffd = take_userfaultfd(
        b.pid(), [&b](std::string_view name, std::initializer_list<std::uint64_t> args) {
          return b.sys(name, args, "the userfaultfd of lazy pages");
        });
  protect_vmas(b, p.mm, kept);
  set_mm_fields(b, p.mm, parent != nullptr && parent->mm.exe == p.mm.exe);
  // Before the children are forked, which inherit it; the dump checked (check_groups) that
  // a group to join is led by a process made before this one.
  const TreeMember self{p.task.pid, p.ppid, p.task.pgid, p.task.sid, false};
  std::optional<TreeMember> parent_ids;
  if (parent != nullptr)
    parent_ids =
        TreeMember{parent->task.pid, parent->ppid, parent->task.pgid, parent->task.sid, false};
  enter_phase("grouping");
  set_grouping(b, self, parent_ids ? &*parent_ids : nullptr);
  if (p.task.child_subreaper)
    b.sys("prctl", {PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0},
          "child subreaper " + std::to_string(p.task.pid));
  enter_phase("children");
  for (const ZombieImage& z : img.zombies) {
    if (z.ppid != p.task.pid) continue;
    if (!WIFEXITED(z.exit_code))
      throw CkptError(CkptError::kUnsupported, "zombie " + std::to_string(z.pid) +
                                                   " was killed by a signal; not supported yet");
    Builder& zb = fork_child(b, z.pid, false, all);
    set_grouping(zb, {z.pid, z.ppid, z.pgid, z.sid, true}, &self);
    // It exits as soon as it runs, leaving the zombie its parent will reap.
    zb.exit_on_release(WEXITSTATUS(z.exit_code));
  }
  for (const ProcImage& c : img.procs) {
    if (c.ppid == p.task.pid)
      restore_process(fork_child(b, c.task.pid, c.has_seccomp(), all), c, &p, img, files, all, opts,
                      terminal, lazy_spaces);
  }
  enter_phase("task");
  set_task_state(b, p.task, files,
                 img.caller && img.caller->pid == p.task.pid ? &*img.caller : nullptr);
  add_epoll_watches(b, p.task, img.files);
  // A shell job in the foreground takes ckpt's terminal over, as the shell would give it; its
  // signals are all blocked here, so the kernel sends no SIGTTOU for asking from the
  // background.
  if (!terminal.empty() && p.task.foreground && p.task.pgid == p.task.pid) {
    auto fd = std::find_if(p.task.fds.begin(), p.task.fds.end(), [&](const FdImage& f) {
      return img.files.files[static_cast<std::size_t>(f.file)].ctty;
    });
    if (fd != p.task.fds.end()) {
      int pgid = b.in_tree(p.task.pid);
      b.sys("ioctl",
            {static_cast<std::uint64_t>(fd->fd), TIOCSPGRP,
             b.put(std::span(reinterpret_cast<const std::uint8_t*>(&pgid), sizeof pgid))},
            "foreground process group on " + terminal);
    }
  }
  set_shared_signals(b, p.task);
  if (p.task.stopped) b.stop_on_release();
  set_thread_state(b, b.tracee(), p.cores.front());
  enter_phase("threads");
  for (std::size_t i = 1; i < p.cores.size(); ++i) {
    create_thread(b, p.cores[i].tid);
    set_thread_state(b, b.threads().back(), p.cores[i]);
  }
  // After the threads, which a timer may signal (SIGEV_THREAD_ID).
  enter_phase("timers");
  restore_timers(b, p.task);
  enter_phase("seccomp");
  restore_seccomp(b, p);
  enter_phase("creds");
  for (std::size_t i = 0; i < p.cores.size(); ++i) {
    Tracee& t = i == 0 ? b.tracee() : b.threads()[i - 1];
    set_creds(b, t, p.cores[i].creds, p.cores[i].tid);
    // After the credentials, whose change clears it. The detached root's parent is ckpt,
    // which exits at once and would deliver it.
    if (p.cores[i].pdeathsig != 0 && (parent != nullptr || !detach))
      b.sys(t, "prctl",
            {PR_SET_PDEATHSIG, static_cast<std::uint64_t>(p.cores[i].pdeathsig), 0, 0, 0},
            "parent-death signal of thread " + std::to_string(p.cores[i].tid));
  }
  b.sys("munmap", {b.helper(), kHelperPages * a.page_size}, "restore helper pages");
  enter_phase("registers");
  for (std::size_t i = 0; i < p.cores.size(); ++i) {
    Tracee& t = i == 0 ? b.tracee() : b.threads()[i - 1];
    // Each thread is in the exit stop of the syscall injected last; on arm64 leaving that stop
    // puts back the x7 the injected call entered with, and a task caught mid-computation
    // would go on with the restorer's value there instead of its own.
    if (!a.syscall_stop_clobbers.empty()) t.enter_signal_stop();
    t.set_fp(fps[i]);
    for (const auto& [note, bytes] : vectors[i])
      t.set_regset(note, bytes, "vector regset " + std::to_string(note));
    t.set_regs(regs[i]);
    t.set_sigmask(p.cores[i].sigmask);
  }
  // Last: from here on a touch of a missing page waits for the lazy-pages server.
  if (lazy && lazy->uffd) {
    enter_phase("lazy-pages");
    register_missing(lazy->uffd.get(), p.mm, lazy->missing);
    lazy_spaces.push_back(std::move(*lazy));
  }
}

}  // namespace

RestoreResult restore(const RestoreOptions& opts) {
  const arch::Arch& a = arch::native_arch();
  if (opts.dir.empty()) throw CkptError(CkptError::kUsage, "restore needs an image directory");
  enter_phase("validate");
  ImageReader reader(opts.dir);
  Image img = load(reader);
  std::string terminal;
  if (opts.shell_job) {
    const char* name = ::ttyname(STDIN_FILENO);
    if (name == nullptr)
      throw CkptError(CkptError::kUsage,
                      "restore --shell-job gives the job the terminal on ckpt's standard input, "
                      "which is not a terminal; run it from the shell that is to own the job");
    terminal = name;
  }
  std::vector<VmaImage> all_vmas;
  for (const ProcImage& p : img.procs) {
    all_vmas.insert(all_vmas.end(), p.mm.vmas.begin(), p.mm.vmas.end());
    const bool remote =
        std::any_of(p.pages.begin(), p.pages.end(), [](const PageSource& s) { return s.remote; });
    if (remote && !(opts.lazy_pages && (opts.remote_pages || opts.page_server)))
      throw CkptError(CkptError::kUsage,
                      "image " + opts.dir + " leaves pages of process " +
                          std::to_string(p.task.pid) +
                          " in the frozen tree on its source host: restore it with --lazy-pages "
                          "--page-server SOURCE:PORT while `ckpt dump --lazy-pages` there holds "
                          "them (an image of `ckpt migrate --lazy` only its `ckpt receive` can "
                          "restore)");
  }
  const ActionScripts scripts(opts.action_scripts);
  scripts.run(ScriptAction::kPreRestore, img.procs.front().task.pid, opts.dir);
  // Before any process exists: a source that is gone or holds another tree fails here.
  const std::shared_ptr<RemotePages> remote_pages =
      opts.page_server ? connect_source(*opts.page_server, opts.tls, img.procs.front().task.pid)
                       : opts.remote_pages;

  // ckpt holds every description of the tree and the tasks inherit its limit until theirs
  // are set: fd numbers up to the hard limit must be usable meanwhile.
  if (rlimit nofile{};
      ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  // Made before any process exists; destroyed after the Builders below, whose processes a
  // failure kills, so that the cgroups it created can be removed again.
  std::optional<CgroupPlacer> cgroups;
  if (opts.cgroups != CgroupMode::kIgnore) {
    std::vector<std::pair<pid_t, pid_t>> tree;
    for (const ProcImage& p : img.procs)
      tree.emplace_back(p.task.pid, p.ppid);
    img.cgroups = &cgroups.emplace(load_cgroups(reader), tree, opts.cgroups);
  }
  std::uint64_t helper = map_helper(all_vmas);
  // Declared before the Builders: a failed restore kills the processes first, so that no
  // thread waits on a userfaultfd being closed.
  std::vector<LazySpace> lazy_spaces;
  const ProcImage& root = img.procs.front();
  pid_t pid = clone_with_pid(root.task.pid, img.namespaces);
  ::munmap(reinterpret_cast<void*>(helper), kHelperPages * a.page_size);
  Builders all;
  all.push_back(std::make_unique<Builder>(pid, helper, root.has_seccomp(), img.namespaces));
  if (img.namespaces.uts) {
    Builder& b = *all.front();
    const NamespacesImage& ns = img.namespaces;
    b.sys("sethostname", {b.put_string(ns.hostname), ns.hostname.size()},
          "hostname " + ns.hostname);
    b.sys("setdomainname", {b.put_string(ns.domainname), ns.domainname.size()},
          "domain name " + ns.domainname);
  }
  if (img.namespaces.mnt) {
    Builder& b = *all.front();
    make_mounts(pid, img.mounts, img.mounts_data, [&b](const MountImage& m) {
      // The four strings side by side in the scratch page.
      const std::string args = m.source + '\0' + m.mountpoint + '\0' + m.fstype + '\0' + m.options;
      const std::uint64_t at = b.put_string(args);
      const std::uint64_t target = at + m.source.size() + 1,
                          fstype = target + m.mountpoint.size() + 1,
                          options = fstype + m.fstype.size() + 1;
      b.sys("mount", {at, target, fstype, m.flags, options},
            "the " + m.fstype + " at " + m.mountpoint);
    });
  }
  // The sockets are made in the tree's network namespace, where their names and ports live.
  std::optional<InNetNamespace> in_net;
  if (img.namespaces.net) {
    in_net.emplace(pid);
    if (img.namespaces.loopback_up) bring_loopback_up();
  }
  // In the new namespace, which the processes keep alive: a failed restore takes it along.
  if (img.namespaces.ipc)
    in_namespace_of(pid, CLONE_NEWIPC, [&] { make_ipc_objects(img.ipc, img.ipc_data); });
  {
    // Closed before any process runs: a reader waits for its pipe's writers, ckpt not among them.
    // Their paths, the sockets' names among them, lie in the tree's mount namespace, which
    // may hide ckpt's /proc.
    UniqueFd own_fds(::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!own_fds) throw_errno("opening /proc/self/fd");
    std::optional<OpenFiles> files;
    auto open = [&] { files.emplace(img.files, img.files_data, terminal, own_fds.get()); };
    if (img.namespaces.mnt)
      in_namespace_of(pid, CLONE_NEWNS, open);
    else
      open();
    restore_process(*all.front(), root, nullptr, img, *files, all, opts, terminal, lazy_spaces);
    files->seal();
  }
  if (img.namespaces.ipc) in_namespace_of(pid, CLONE_NEWIPC, [&] { finish_ipc_objects(img.ipc); });
  scripts.run(ScriptAction::kPostRestore, pid, opts.dir);
  if (opts.before_running) opts.before_running();
  if (!opts.pidfile.empty()) {
    std::ofstream f(opts.pidfile);
    f << pid << "\n";
    if (!f) throw CkptError(CkptError::kSystem, "cannot write pidfile " + opts.pidfile);
  }
  // Serving before any process runs, which may touch a missing page at once.
  pid_t lazy_server = 0;
  if (!lazy_spaces.empty()) {
    enter_phase("lazy-pages");
    lazy_server = start_lazy_pages(lazy_spaces, !opts.detach, remote_pages);
    if (opts.lazy_server_started) opts.lazy_server_started(lazy_server);
  }
  // Children first, so that a parent never runs before its children exist as dumped.
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    (*it)->finish();
  // A tree with nothing lazy has all its pages already: the source may drop its copy.
  if (remote_pages && lazy_server == 0) remote_pages->all_arrived();
  if (cgroups) cgroups->keep();
  scripts.run(ScriptAction::kPostResume, pid, opts.dir);
  if (opts.detach) return {pid, 0};
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int server_status = 0;
  while (lazy_server > 0 && ::waitpid(lazy_server, &server_status, 0) < 0 && errno == EINTR) {
  }
  if (lazy_server > 0 && !(WIFEXITED(server_status) && WEXITSTATUS(server_status) == 0))
    throw CkptError(CkptError::kSystem,
                    "the lazy-pages server failed (its message is above) and killed the restored "
                    "processes");
  return {pid, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)};
}

}  // namespace crossrig::engine
