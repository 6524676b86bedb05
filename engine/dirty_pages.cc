#include "engine/dirty_pages.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "arch/arch.h"
#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/compat/uapi.h"
#include "engine/page_hash.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"

namespace crossrig::engine {
namespace {

constexpr std::uint64_t kSoftDirtyBit = 1ULL << 55;
// Tracking fds sit this far below the process's fd limit, out of the way of its own.
constexpr long kHighFdMargin = 16;

std::size_t page_size() {
  return arch::native_arch().page_size;
}

// A page of our own written once, for the probes below.
struct ProbePage {
  ProbePage()
      : p(static_cast<char*>(::mmap(nullptr, page_size(), PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))) {}
  ~ProbePage() {
    if (p != MAP_FAILED) ::munmap(p, page_size());
  }
  ProbePage(const ProbePage&) = delete;
  ProbePage& operator=(const ProbePage&) = delete;
  std::uint64_t addr() const { return reinterpret_cast<std::uint64_t>(p); }
  char* p;
};

bool soft_dirty_works() {
  ProbePage page;
  if (page.p == MAP_FAILED) return false;
  UniqueFd fd(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  UniqueFd clear(::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC));
  if (!fd || !clear || ::write(clear.get(), "4", 1) != 1) return false;
  page.p[0] = 1;
  std::uint64_t entry = 0;
  return ::pread(fd.get(), &entry, sizeof entry,
                 static_cast<off_t>(page.addr() / page_size() * sizeof entry)) == sizeof entry &&
         (entry & kSoftDirtyBit) != 0;
}

// PAGEMAP_SCAN over [start, end) with the flags and masks of ask, in as many calls as it takes;
// each(region) for every region reported.
template <typename Each>
void pagemap_scan(int pagemap_fd, std::uint64_t start, std::uint64_t end, pm_scan_arg ask,
                  Each each) {
  std::vector<page_region> regions(512);
  for (std::uint64_t at = start; at < end;) {
    pm_scan_arg arg = ask;
    arg.size = sizeof arg;
    arg.start = at;
    arg.end = end;
    arg.vec = reinterpret_cast<std::uint64_t>(regions.data());
    arg.vec_len = regions.size();
    const long n = ::ioctl(pagemap_fd, PAGEMAP_SCAN, &arg);
    if (n < 0) throw_errno("PAGEMAP_SCAN of the range at " + std::to_string(at));
    for (long i = 0; i < n; ++i)
      each(regions[static_cast<std::size_t>(i)]);
    if (arg.walk_end <= at) break;
    at = arg.walk_end;
  }
}

// The ranges of [start, end) PAGEMAP_SCAN reports written.
std::vector<std::pair<std::uint64_t, std::uint64_t>> scan_written(int pagemap_fd,
                                                                  std::uint64_t start,
                                                                  std::uint64_t end) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  pm_scan_arg ask{};
  ask.category_mask = PAGE_IS_WRITTEN;
  ask.return_mask = PAGE_IS_WRITTEN;
  pagemap_scan(pagemap_fd, start, end, ask,
               [&](const page_region& r) { out.emplace_back(r.start, r.end); });
  return out;
}

bool pagemap_scan_works() {
  UniqueFd uffd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY)));
  if (!uffd) return false;
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
  ProbePage page;
  if (::ioctl(uffd.get(), UFFDIO_API, &api) != 0 || page.p == MAP_FAILED) return false;
  uffdio_register reg{};
  reg.range = {page.addr(), page_size()};
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  uffdio_writeprotect wp{};
  wp.range = reg.range;
  wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
  UniqueFd pagemap(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (::ioctl(uffd.get(), UFFDIO_REGISTER, &reg) != 0 ||
      ::ioctl(uffd.get(), UFFDIO_WRITEPROTECT, &wp) != 0 || !pagemap)
    return false;
  try {
    if (!scan_written(pagemap.get(), page.addr(), page.addr() + page_size()).empty()) return false;
    page.p[0] = 1;
    return scan_written(pagemap.get(), page.addr(), page.addr() + page_size()).size() == 1;
  } catch (const std::exception&) {
    return false;
  }
}

long open_files_limit(pid_t pid) {
  std::istringstream in(read_file(proc_path(pid, "limits")));
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("Max open files")) continue;
    std::istringstream f(line.substr(std::strlen("Max open files")));
    std::string soft;
    f >> soft;
    return soft == "unlimited" ? 1 << 20 : std::stol(soft);
  }
  return 1024;
}

template <typename T>
std::span<const std::uint8_t> bytes_of(const T& v) {
  return std::span(reinterpret_cast<const std::uint8_t*>(&v), sizeof v);
}

template <typename Call>
void register_mappings(pid_t pid, const std::vector<VmaImage>& vmas, std::uint64_t uffd,
                       RemoteAddr scratch, const Call& call) {
  for (const VmaImage& v : vmas) {
    if (!trackable(v) || v.has_flag("uw")) continue;
    const std::string what = " of the mapping at " + std::to_string(v.start);
    uffdio_register reg{};
    reg.range = {v.start, v.end - v.start};
    reg.mode = UFFDIO_REGISTER_MODE_WP;
    write_remote(pid, scratch, bytes_of(reg));
    call("ioctl", {uffd, UFFDIO_REGISTER, scratch.addr()}, "UFFDIO_REGISTER" + what);
    uffdio_writeprotect wp{};
    wp.range = reg.range;
    wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
    write_remote(pid, scratch, bytes_of(wp));
    call("ioctl", {uffd, UFFDIO_WRITEPROTECT, scratch.addr()}, "UFFDIO_WRITEPROTECT" + what);
  }
}

}  // namespace

std::string tracking_name(Tracking t) {
  switch (t) {
    case Tracking::kSoftDirty:
      return "soft-dirty";
    case Tracking::kPagemapScan:
      return "pagemap-scan";
    case Tracking::kHash:
      return "hash";
  }
  return "?";
}

Tracking parse_tracking(const std::string& name) {
  for (Tracking t : {Tracking::kSoftDirty, Tracking::kPagemapScan, Tracking::kHash}) {
    if (tracking_name(t) == name) return t;
  }
  throw CkptError(CkptError::kUsage, "--track " + name +
                                         ": the tracking is one of auto, soft-dirty, "
                                         "pagemap-scan, hash");
}

Tracking best_tracking() {
  if (soft_dirty_works()) return Tracking::kSoftDirty;
  if (pagemap_scan_works()) return Tracking::kPagemapScan;
  return Tracking::kHash;
}

ParentPages::ParentPages(std::vector<PagemapEntry> pagemap, std::vector<std::uint64_t> hashes)
    : runs_(std::move(pagemap)), hashes_(std::move(hashes)) {
  std::uint64_t first = 0;
  for (const PagemapEntry& e : runs_) {
    first_.push_back(first);
    first += e.npages;
  }
  if (!hashes_.empty() && hashes_.size() != first)
    throw CkptError(CkptError::kBadImage, "the page hashes do not match the pagemap");
  // Sorted for lookups, with each run's first page index alongside.
  std::vector<std::size_t> order(runs_.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return runs_[a].vaddr < runs_[b].vaddr; });
  std::vector<PagemapEntry> runs;
  std::vector<std::uint64_t> firsts;
  for (std::size_t i : order) {
    runs.push_back(runs_[i]);
    firsts.push_back(first_[i]);
  }
  runs_ = std::move(runs);
  first_ = std::move(firsts);
}

std::optional<std::size_t> ParentPages::find(std::uint64_t vaddr) const {
  const std::uint64_t ps = page_size();
  auto inside = [&](std::size_t i) {
    return runs_[i].vaddr <= vaddr && vaddr < runs_[i].vaddr + runs_[i].npages * ps;
  };
  if (last_ >= runs_.size() || !inside(last_)) {
    auto it = std::upper_bound(runs_.begin(), runs_.end(), vaddr,
                               [](std::uint64_t v, const PagemapEntry& e) { return v < e.vaddr; });
    if (it == runs_.begin()) return std::nullopt;
    last_ = static_cast<std::size_t>(it - runs_.begin()) - 1;
    if (!inside(last_)) return std::nullopt;
  }
  return first_[last_] + (vaddr - runs_[last_].vaddr) / ps;
}

std::uint64_t ParentPages::held_until(std::uint64_t vaddr) const {
  if (!find(vaddr)) return 0;
  return runs_[last_].vaddr + runs_[last_].npages * page_size();
}

std::optional<std::uint64_t> ParentPages::hash(std::uint64_t vaddr) const {
  auto index = find(vaddr);
  if (!index || hashes_.empty()) return std::nullopt;
  return hashes_[*index];
}

void ScanAhead::scan(int pagemap_fd, std::uint64_t start, std::uint64_t end) {
  Range range{start, end, {}};
  pm_scan_arg ask{};
  ask.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
  ask.return_mask = PAGE_IS_WRITTEN;
  pagemap_scan(pagemap_fd, start, end, ask, [&](const page_region& r) {
    range.regions.push_back({r.start, r.end, (r.categories & PAGE_IS_WRITTEN) != 0});
  });
  ranges_.push_back(std::move(range));
}

const std::vector<ScanAhead::Region>* ScanAhead::find(std::uint64_t start,
                                                      std::uint64_t end) const {
  for (const Range& r : ranges_) {
    if (r.start == start && r.end == end) return &r.regions;
  }
  return nullptr;
}

PageTracker::PageTracker(Tracking t, const ParentPages* parent, int pagemap_fd, int mem_fd,
                         bool rearm, const ScanAhead* ahead)
    : tracking_(t),
      parent_(parent),
      pagemap_fd_(pagemap_fd),
      mem_fd_(mem_fd),
      rearm_(rearm),
      ahead_(ahead) {}

std::vector<bool> PageTracker::written(const VmaImage& vma, std::span<const std::uint64_t> entries,
                                       const std::vector<PageRun>& present) {
  const std::size_t ps = page_size();
  std::vector<bool> w((vma.end - vma.start) / ps, true);
  if (tracking_ == Tracking::kSoftDirty) {
    for (std::size_t i = 0; i < w.size() && i < entries.size(); ++i)
      w[i] = (entries[i] & kSoftDirtyBit) != 0;
  } else if (tracking_ == Tracking::kHash) {
    std::vector<std::uint8_t> buf;
    for (const PageRun& run : present) {
      buf.resize(run.npages * ps);
      if (::pread(mem_fd_, buf.data(), buf.size(), static_cast<off_t>(run.vaddr)) !=
          static_cast<ssize_t>(buf.size()))
        throw_errno("reading the pages at " + std::to_string(run.vaddr) + " to hash them");
      for (std::uint64_t i = 0; i < run.npages; ++i) {
        const std::uint64_t va = run.vaddr + i * ps;
        const std::uint64_t h = hash_of(std::span(buf.data() + i * ps, ps));
        hashes_.push_back(h);
        const auto before = parent_ != nullptr ? parent_->hash(va) : std::nullopt;
        w[(va - vma.start) / ps] = !before || *before != h;
      }
    }
  }
  return w;
}

std::vector<PageRun> PageTracker::scan(const VmaImage& vma, PageFilter filter,
                                       std::vector<bool>& written) {
  const std::size_t ps = page_size();
  // A mapping without the userfaultfd's write-protection tracks nothing.
  const bool tracked = vma.has_flag("uw");
  written.assign((vma.end - vma.start) / ps, !tracked);
  std::vector<PageRun> present;
  auto take = [&](std::uint64_t start, std::uint64_t end, bool was_written) {
    if (tracked && was_written) {
      for (std::uint64_t p = start; p < end; p += ps)
        written[(p - vma.start) / ps] = true;
    }
    if (!present.empty() && present.back().vaddr + present.back().npages * ps == start)
      present.back().npages += (end - start) / ps;
    else
      present.push_back({start, (end - start) / ps});
  };
  // Scanned ahead without protecting again or telling file pages apart: of use to a final
  // dump of memory with no file pages.
  if (const auto* ahead = ahead_ != nullptr && !rearm_ && filter != PageFilter::kAnonOnly
                              ? ahead_->find(vma.start, vma.end)
                              : nullptr) {
    for (const ScanAhead::Region& r : *ahead)
      take(r.start, r.end, r.written);
    return present;
  }
  pm_scan_arg ask{};
  // Protecting every present page protects again those written.
  ask.flags = tracked && rearm_ ? PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC : 0;
  ask.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
  // Asked only where it matters: finding it looks up every present page's struct page,
  // a third of a final dump's scan of anonymous memory.
  ask.return_mask = PAGE_IS_WRITTEN | (filter == PageFilter::kAnonOnly ? PAGE_IS_FILE : 0);
  pagemap_scan(pagemap_fd_, vma.start, vma.end, ask, [&](const page_region& r) {
    if (filter == PageFilter::kAnonOnly && (r.categories & PAGE_IS_FILE) != 0) return;
    take(r.start, r.end, (r.categories & PAGE_IS_WRITTEN) != 0);
  });
  return present;
}

std::vector<ChainRun> PageTracker::split(const VmaImage& vma, PageFilter filter) {
  const std::size_t ps = page_size();
  std::vector<PageRun> present;
  std::vector<bool> w;
  if (tracking_ == Tracking::kPagemapScan && parent_ != nullptr) {
    present = scan(vma, filter, w);
  } else {
    std::vector<std::uint64_t> entries((vma.end - vma.start) / ps);
    const auto want = static_cast<ssize_t>(entries.size() * sizeof(std::uint64_t));
    if (::pread(pagemap_fd_, entries.data(), static_cast<std::size_t>(want),
                static_cast<off_t>(vma.start / ps * sizeof(std::uint64_t))) != want)
      throw_errno("reading the pagemap of the mapping at " + std::to_string(vma.start));
    present = pages_to_dump(vma.start, entries, filter, ps);
    if (parent_ == nullptr && tracking_ != Tracking::kHash) {
      std::vector<ChainRun> out;
      for (const PageRun& r : present)
        out.push_back({r.vaddr, r.npages, false});
      return out;
    }
    w = written(vma, entries, present);
  }
  auto written_at = [&](std::uint64_t va) { return w[(va - vma.start) / ps]; };
  auto held = [&](std::uint64_t va) { return parent_ != nullptr ? parent_->held_until(va) : 0; };
  std::vector<ChainRun> out;
  auto add = [&](std::uint64_t va, std::uint64_t end, bool in_parent) {
    if (!out.empty() && out.back().in_parent == in_parent &&
        out.back().vaddr + out.back().npages * ps == va)
      out.back().npages += (end - va) / ps;
    else
      out.push_back({va, (end - va) / ps, in_parent});
  };
  // Segment by segment, not page by page: a final dump of 2 GiB splits half a million pages.
  for (const PageRun& r : present) {
    const std::uint64_t end = r.vaddr + r.npages * ps;
    for (std::uint64_t va = r.vaddr; va < end;) {
      std::uint64_t next = va + ps;
      if (const std::uint64_t parent_end = written_at(va) ? 0 : held(va); parent_end != 0) {
        const std::uint64_t limit = std::min(end, parent_end);
        while (next < limit && !written_at(next))
          next += ps;
        add(va, next, true);
      } else {
        while (next < end && (written_at(next) || held(next) == 0))
          next += ps;
        add(va, next, false);
      }
      va = next;
    }
  }
  return out;
}

bool trackable(const VmaImage& vma) {
  return !vma.shared && (vma.kind == "anon" || vma.kind == "heap" || vma.kind == "stack");
}

bool is_userfaultfd(pid_t pid, int fd) {
  try {
    return read_link(proc_path(pid, "fd/" + std::to_string(fd))) == "anon_inode:[userfaultfd]";
  } catch (const std::exception&) {
    return false;
  }
}

int arm_write_tracking(pid_t pid, const std::vector<VmaImage>& vmas, std::optional<int> fd,
                       RemoteAddr scratch, const InjectSyscall& sys) {
  auto call_result = [pid](std::int64_t r, const std::string& what) {
    if (r < 0 && r > -4096)
      throw CkptError(CkptError::kSystem, "injected " + what + " failed in process " +
                                              std::to_string(pid) + ": " +
                                              std::strerror(static_cast<int>(-r)));
    return static_cast<std::uint64_t>(r);
  };
  auto call = [&](std::string_view name, std::initializer_list<std::uint64_t> args,
                  const std::string& what) { return call_result(sys(name, args), what); };
  const bool reuse = fd && is_userfaultfd(pid, *fd);
  std::uint64_t uffd = reuse ? static_cast<std::uint64_t>(*fd) : 0;
  if (!reuse) {
    const std::uint64_t made =
        call("userfaultfd", {O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY}, "userfaultfd");
    const long floor = std::max(3L, open_files_limit(pid) - kHighFdMargin);
    const std::int64_t high =
        sys("fcntl", {made, F_DUPFD_CLOEXEC, static_cast<std::uint64_t>(floor)});
    sys("close", {made});
    uffd = call_result(high, "fcntl(F_DUPFD_CLOEXEC) of the tracking userfaultfd");
  }
  try {
    if (!reuse) {
      uffdio_api api{};
      api.api = UFFD_API;
      api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
      write_remote(pid, scratch, bytes_of(api));
      call("ioctl", {uffd, UFFDIO_API, scratch.addr()}, "UFFDIO_API");
    }
    register_mappings(pid, vmas, uffd, scratch, call);
  } catch (...) {
    // A failed arming leaves no userfaultfd of its own behind.
    if (!reuse) sys("close", {uffd});
    throw;
  }
  return static_cast<int>(uffd);
}

}  // namespace crossrig::engine
