#include "engine/check.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"
#include "engine/compat/uapi.h"
#include "engine/dirty_pages.h"
#include "engine/kcmp.h"
#include "engine/lazy_pages.h"
#include "engine/proc_parse.h"
#include "engine/ptrace_task.h"
#include "engine/sock_diag.h"

namespace crossrig::engine {
namespace {

Finding check_ptrace() {
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  bool ok = ::ptrace(PTRACE_SEIZE, child, nullptr, nullptr) == 0;
  int err = errno;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  return {"ptrace", ok, true, ok ? "PTRACE_SEIZE works" : std::strerror(err),
          ok ? "threads can be seized and syscalls injected"
             : "dump and restore are impossible (check yama ptrace_scope and CAP_SYS_PTRACE)"};
}

Finding check_set_tid() {
  auto status = parse_status(read_file("/proc/self/status"));
  std::uint64_t caps = std::stoull(status.at("CapEff"), nullptr, 16);
  bool cap = (caps & (1ULL << 40)) || (caps & (1ULL << 21));  // CHECKPOINT_RESTORE, SYS_ADMIN
  errno = 0;
  long r = ::syscall(SYS_clone3, nullptr, 0);
  bool has_clone3 = r < 0 && errno != ENOSYS;
  bool ok = cap && has_clone3;
  return {"clone3 set_tid", ok, true,
          std::string(has_clone3 ? "clone3 present" : "no clone3") +
              (cap ? ", CAP_CHECKPOINT_RESTORE held" : ", lacking CAP_CHECKPOINT_RESTORE"),
          ok ? "restored processes keep their PIDs" : "restore cannot give processes their PIDs"};
}

Finding check_userfaultfd() {
  UniqueFd fd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY)));
  if (!fd)
    return {"userfaultfd", false, false, std::strerror(errno),
            "no lazy restore and no dirty tracking through write-protect"};
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
  bool wp = ::ioctl(fd.get(), UFFDIO_API, &api) == 0;
  return {"userfaultfd", true, false,
          wp ? "with asynchronous write-protect" : "without asynchronous write-protect",
          wp ? "dirty pages can be tracked for pre-dumps" : "pre-dumps must copy all memory again"};
}

// What restore --lazy-pages asks of userfaultfd: faults taken in the kernel too (no
// UFFD_USER_MODE_ONLY: a read() into a missing page must wait for it) and the events that
// change which pages are missing.
Finding check_lazy_pages() {
  UniqueFd fd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC)));
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = lazy_uffd_features();
  const bool ok = fd && ::ioctl(fd.get(), UFFDIO_API, &api) == 0;
  return {"lazy pages", ok, false,
          ok ? "userfaultfd with kernel faults and fork, mremap, munmap and madvise events"
             : std::string("userfaultfd for lazy pages: ") + std::strerror(errno),
          ok ? "restore --lazy-pages lets processes run before their memory is in"
             : "restore --lazy-pages is refused; restore fills all memory first"};
}

Finding check_pagemap_scan() {
  UniqueFd fd(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  long ps = ::sysconf(_SC_PAGESIZE);
  void* p = ::mmap(nullptr, static_cast<std::size_t>(ps), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static_cast<char*>(p)[0] = 1;
  page_region region{};
  pm_scan_arg arg{};
  arg.size = sizeof arg;
  arg.start = reinterpret_cast<std::uint64_t>(p);
  arg.end = arg.start + static_cast<std::uint64_t>(ps);
  arg.vec = reinterpret_cast<std::uint64_t>(&region);
  arg.vec_len = 1;
  arg.category_mask = PAGE_IS_PRESENT;
  arg.return_mask = PAGE_IS_PRESENT;
  long r = ::ioctl(fd.get(), PAGEMAP_SCAN, &arg);
  int err = errno;
  ::munmap(p, static_cast<std::size_t>(ps));
  bool ok = r == 1;
  return {"PAGEMAP_SCAN", ok, false, ok ? "ioctl works" : std::strerror(err),
          ok ? "present and written pages can be found in one call per range"
             : "pages are found by reading /proc/PID/pagemap"};
}

Finding check_soft_dirty() {
  long ps = ::sysconf(_SC_PAGESIZE);
  auto* p = static_cast<char*>(::mmap(nullptr, static_cast<std::size_t>(ps), PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  p[0] = 1;
  UniqueFd fd(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  std::uint64_t entry = 0;
  ::pread(
      fd.get(), &entry, sizeof entry,
      static_cast<off_t>(reinterpret_cast<std::uint64_t>(p) / static_cast<std::uint64_t>(ps) * 8));
  ::munmap(p, static_cast<std::size_t>(ps));
  bool ok = (entry >> 55) & 1;
  return {"soft-dirty", ok, false,
          ok ? "new pages are marked soft-dirty" : "CONFIG_MEM_SOFT_DIRTY is off",
          ok ? "soft-dirty can track pages written between dumps"
             : "dirty tracking must use userfaultfd write-protect with PAGEMAP_SCAN"};
}

Finding check_kcmp() {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd b(::fcntl(a.get(), F_DUPFD_CLOEXEC, 0));
  bool ok = false;
  std::string detail;
  try {
    ok = same_open_file(::getpid(), a.get(), ::getpid(), b.get());
    detail = ok ? "KCMP_FILE works" : "KCMP_FILE does not see a dup'ed fd as the same file";
  } catch (const std::exception& e) {
    detail = e.what();
  }
  return {"kcmp", ok, true, detail,
          ok ? "fds sharing one open file (dup, fork) are restored sharing it"
             : "no process holding a file can be dumped (CONFIG_KCMP is needed)"};
}

Finding check_unix_diag() {
  std::string detail;
  const bool ok = sock_diag_works(AF_UNIX, 0, &detail);
  return {"unix_diag", ok, false, detail,
          ok ? "unix sockets are checkpointed with their peers and pending connections"
             : "a process holding a unix socket cannot be dumped (load unix_diag, or build "
               "the kernel with CONFIG_UNIX_DIAG)"};
}

Finding check_inet_diag() {
  std::string tcp, udp;
  const bool ok =
      sock_diag_works(AF_INET, IPPROTO_TCP, &tcp) && sock_diag_works(AF_INET, IPPROTO_UDP, &udp);
  return {"inet_diag", ok, false, ok ? tcp : "TCP: " + tcp + (udp.empty() ? "" : ", UDP: " + udp),
          ok ? "every TCP and UDP socket of a network namespace can be listed (a dump reads "
               "its own tree's sockets through their options and does not need it)"
             : "TCP and UDP sockets cannot be listed (load inet_diag, tcp_diag and udp_diag, or "
               "build the kernel with CONFIG_INET_DIAG, CONFIG_INET_TCP_DIAG and "
               "CONFIG_INET_UDP_DIAG)"};
}

Finding check_tracking() {
  const Tracking t = best_tracking();
  const char* how =
      t == Tracking::kSoftDirty ? "by the pages' soft-dirty bits"
      : t == Tracking::kPagemapScan
          ? "by PAGEMAP_SCAN, a userfaultfd write-protecting the process's private memory"
          : "by a hash of every page: all memory is read again, only changed pages are copied";
  return {"dirty tracking", true, false, tracking_name(t),
          std::string("pre-dump and dump --prev-images-dir find written pages ") + how};
}

}  // namespace

std::vector<Finding> check_kernel() {
  return {check_ptrace(),     check_set_tid(),      check_kcmp(),       check_userfaultfd(),
          check_lazy_pages(), check_pagemap_scan(), check_soft_dirty(), check_tracking(),
          check_unix_diag(),  check_inet_diag()};
}

bool all_required_ok(const std::vector<Finding>& findings) {
  for (const Finding& f : findings) {
    if (f.required && !f.ok) return false;
  }
  return true;
}

nlohmann::json findings_to_json(const std::vector<Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const Finding& f : findings)
    out.push_back({{"feature", f.feature},
                   {"ok", f.ok},
                   {"required", f.required},
                   {"detail", f.detail},
                   {"consequence", f.consequence}});
  return out;
}

void print_findings(const std::vector<Finding>& findings, std::ostream& out) {
  for (const Finding& f : findings) {
    out << (f.ok ? "ok      " : (f.required ? "MISSING " : "absent  ")) << f.feature << ": "
        << f.detail << "\n         -> " << f.consequence << "\n";
  }
}

}  // namespace crossrig::engine
