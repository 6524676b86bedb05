#include "engine/lazy_restore.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "arch/arch.h"
#include "engine/ckpt_error.h"
#include "engine/lazy_pages.h"
#include "engine/ptrace_task.h"
#include "engine/task_fd.h"
#include "engine/task_info.h"

namespace crossrig::engine {

namespace {

const VmaImage* vma_holding(const MmImage& mm, std::uint64_t vaddr) {
  for (const VmaImage& v : mm.vmas) {
    if (v.start <= vaddr && vaddr < v.end) return &v;
  }
  return nullptr;
}

// Every process below pid, as the kernel lists children of each thread.
void collect_descendants(pid_t pid, std::vector<pid_t>& out) {
  for (pid_t kid : list_children(pid)) {
    out.push_back(kid);
    collect_descendants(kid, out);
  }
}

void kill_trees(const std::vector<pid_t>& roots) {
  std::vector<pid_t> all = roots;
  for (pid_t r : roots) {
    try {
      collect_descendants(r, all);
    } catch (const std::exception&) {
      // Gone already, with whatever it had below it reparented: killed by the group below.
    }
  }
  for (pid_t p : all)
    ::kill(p, SIGKILL);
}

}  // namespace

std::vector<std::uint64_t> pages_needed_at_once(const std::vector<CoreImage>& cores,
                                                std::size_t page_size) {
  // A kernel-mode fault that a pending signal interrupts fails instead of waiting for the
  // page, and the thread gets SIGSEGV (threads restored lazily died so on the boards' Linux
  // 6.1); the rseq area is written on every return to user space, injected syscalls included.
  constexpr std::uint64_t kSignalFrameRoom = 64 << 10;
  const arch::Arch& a = arch::native_arch();
  std::vector<std::uint64_t> eager;
  for (const CoreImage& c : cores) {
    if (c.rseq_ptr != 0) {
      eager.push_back(c.rseq_ptr);
      eager.push_back(c.rseq_ptr + std::max<std::uint64_t>(c.rseq_size, 1) - 1);
    }
    const std::uint64_t sp = regs_from_names(a, c.regs).get(a.sp);
    for (std::uint64_t at = sp > kSignalFrameRoom ? sp - kSignalFrameRoom : 0; at <= sp;
         at += page_size)
      eager.push_back(at);
    if (!(c.altstack_flags & SS_DISABLE)) {
      for (std::uint64_t at = c.altstack_sp; at < c.altstack_sp + c.altstack_size; at += page_size)
        eager.push_back(at);
    }
  }
  return eager;
}

bool may_fill_lazily(const VmaImage& v) {
  return (v.kind == "anon" || v.kind == "heap" || v.kind == "stack") && !v.shared &&
         (v.prot & PROT_READ) != 0 && !v.has_flag("wf") && !v.has_flag("dc");
}

std::vector<PagemapEntry> defer_lazy_runs(const PageSource& src, std::size_t index,
                                          const MmImage& mm,
                                          const std::vector<std::uint64_t>& eager,
                                          std::size_t page_size, MissingPages& missing) {
  std::vector<PagemapEntry> now;
  for (const PagemapEntry& run : src.runs) {
    const VmaImage* v = vma_holding(mm, run.vaddr);
    if (v == nullptr || !may_fill_lazily(*v)) {
      if (src.remote)
        throw CkptError(CkptError::kBadImage,
                        "the pages at " + std::to_string(run.vaddr) +
                            " are left on the source, in memory that cannot be filled lazily");
      now.push_back(run);
      continue;
    }
    // Pieces between the eager pages go to missing; each eager page is filled now.
    std::uint64_t at = run.vaddr;
    const std::uint64_t end = run.vaddr + run.npages * page_size;
    auto lazy_piece = [&](std::uint64_t to) {
      if (to > at) missing.add({at, (to - at) / page_size, index, run.offset + (at - run.vaddr)});
    };
    std::vector<std::uint64_t> inside;
    for (std::uint64_t p : eager) {
      if (p >= run.vaddr && p < end) inside.push_back(p / page_size * page_size);
    }
    std::sort(inside.begin(), inside.end());
    inside.erase(std::unique(inside.begin(), inside.end()), inside.end());
    if (src.remote && !inside.empty())
      throw CkptError(CkptError::kBadImage, "the page at " + std::to_string(inside.front()) +
                                                " is left on the source, and is needed at once");
    for (std::uint64_t p : inside) {
      lazy_piece(p);
      now.push_back({p, 1, run.offset + (p - run.vaddr), false});
      at = p + page_size;
    }
    lazy_piece(end);
  }
  return now;
}

UniqueFd take_userfaultfd(pid_t pid, const RestoreSyscall& inject) {
  const std::uint64_t fd = inject("userfaultfd", {O_CLOEXEC | O_NONBLOCK});
  UniqueFd uffd;
  try {
    uffd = copy_task_fd(pid, static_cast<int>(fd));
  } catch (...) {
    inject("close", {fd});
    throw;
  }
  inject("close", {fd});
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = lazy_uffd_features();
  if (::ioctl(uffd.get(), UFFDIO_API, &api) != 0)
    throw CkptError(CkptError::kUnsupported,
                    std::string("this kernel's userfaultfd lacks the events lazy restore needs "
                                "(fork, mremap, munmap, madvise): ") +
                        std::strerror(errno) + "; restore without --lazy-pages");
  return uffd;
}

void register_missing(int uffd, const MmImage& mm, const MissingPages& missing) {
  for (const VmaImage& v : mm.vmas) {
    if (!may_fill_lazily(v) || !missing.any_in(v.start, v.end)) continue;
    uffdio_register reg{};
    reg.range.start = v.start;
    reg.range.len = v.end - v.start;
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    if (::ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
      throw_errno("registering the mapping at " + std::to_string(v.start) +
                  " for lazy pages (UFFDIO_REGISTER)");
  }
}

pid_t start_lazy_pages(std::vector<LazySpace>& spaces, bool verbose,
                       std::shared_ptr<RemotePages> remote) {
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) throw_errno("forking the lazy-pages server");
  if (child > 0) {
    spaces.clear();
    return child;
  }
  // Its own session: a ^C meant for ckpt must not take the pages of running processes away.
  ::setsid();
  // Signals ckpt held back while committing a migration (InterruptsHeld) reach the server.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<pid_t> pids;
  std::vector<int> keep = {STDERR_FILENO};
  if (remote) keep.push_back(remote->fd());
  LazyPages server(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)), std::move(remote));
  for (LazySpace& s : spaces) {
    if (s.pid > 0) pids.push_back(s.pid);
    keep.push_back(s.uffd.get());
    server.add(s.pid, std::move(s.uffd), std::move(s.files), std::move(s.missing));
  }
  // Nothing of ckpt's stays open here: a pipe's reader must not wait for this process.
  std::sort(keep.begin(), keep.end());
  int from = 0;
  for (int fd : keep) {
    if (fd > from) ::syscall(SYS_close_range, from, fd - 1, 0);
    from = fd + 1;
  }
  ::syscall(SYS_close_range, from, ~0U, 0);
  try {
    const LazyStats st = server.run();
    if (verbose)
      std::fprintf(stderr,
                   "lazy pages: all in after %.3f s: %llu faults served with %llu pages, %llu "
                   "pages copied in the background, %llu zero pages, %llu forks, %llu pages "
                   "from the source\n",
                   st.seconds, static_cast<unsigned long long>(st.faults),
                   static_cast<unsigned long long>(st.fault_pages),
                   static_cast<unsigned long long>(st.prefetched_pages),
                   static_cast<unsigned long long>(st.zero_pages),
                   static_cast<unsigned long long>(st.forks),
                   static_cast<unsigned long long>(st.remote_pages));
    ::_exit(0);
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "ckpt: lazy pages: %s; the restored processes cannot run on without their "
                 "pages and are killed\n",
                 e.what());
    kill_trees(pids);
    ::_exit(1);
  }
}

}  // namespace crossrig::engine
