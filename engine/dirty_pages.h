#pragma once
// Pages written since the previous image of a chain (ckpt pre-dump, then dump
// --prev-images-dir): an image copies only those and names the others as held by its parent.
// Three ways to know which were written, by what the kernel offers (`ckpt check` tells):
// - soft-dirty: writing 4 to /proc/PID/clear_refs marks every page clean, and bit 55 of the
//   pagemap shows the ones written since (CONFIG_MEM_SOFT_DIRTY: x86, s390, powerpc);
// - pagemap-scan: the process's private anonymous memory is registered with a userfaultfd in
//   asynchronous write-protect mode, whose fd ckpt leaves in the process at a high number;
//   PAGEMAP_SCAN lists the pages written since and protects them again in the same call
//   (Linux 6.7: kernels without soft-dirty, arm64's and this lab's x86_64 among them);
// - hash: the image keeps an XXH3 of every page and the next dump compares: all memory is
//   read again, but it works on any kernel.
// Memory the tracking does not cover (mapped since, not registered, a new process) counts as
// written; a page the parent does not hold is always copied.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pagemap.h"
#include "engine/remote_ptr.h"
#include "engine/task_image.h"

namespace crossrig::engine {

enum class Tracking { kSoftDirty, kPagemapScan, kHash };

/// "soft-dirty", "pagemap-scan" or "hash".
std::string tracking_name(Tracking t);
/// The tracking of a name tracking_name gives; throws kUsage naming the choices otherwise.
Tracking parse_tracking(const std::string& name);
/// The first of soft-dirty, pagemap-scan and hash this kernel supports.
Tracking best_tracking();

/// The pages the images of a chain hold for one process, as its last image lists them
/// (copied or in its parent), with hash tracking each page's XXH3 in the same order.
class ParentPages {
 public:
  ParentPages() = default;
  ParentPages(std::vector<PagemapEntry> pagemap, std::vector<std::uint64_t> hashes);
  /// The end of the run of pages held that holds vaddr, or 0 if none does.
  std::uint64_t held_until(std::uint64_t vaddr) const;
  /// The XXH3 recorded for the page at vaddr, if any.
  std::optional<std::uint64_t> hash(std::uint64_t vaddr) const;

 private:
  /// The index of the page at vaddr among all pages listed.
  std::optional<std::size_t> find(std::uint64_t vaddr) const;
  std::vector<PagemapEntry> runs_;     // by vaddr
  std::vector<std::uint64_t> first_;   // index of each run's first page
  std::vector<std::uint64_t> hashes_;  // by page index, or empty
  mutable std::size_t last_ = 0;       // the run found last: pages are asked for in order
};

/// A run of present pages of an image: copied into it, or held by its parent.
struct ChainRun {
  std::uint64_t vaddr = 0, npages = 0;
  bool in_parent = false;
};

/// What PAGEMAP_SCAN reported of some ranges of a held process, scanned ahead of the split
/// that uses it: a final dump scans the private anonymous memory of its frozen process while
/// another core reads the process's smaps, each a walk of the same page tables.
class ScanAhead {
 public:
  /// One region PAGEMAP_SCAN returned: present or swapped pages, and whether written.
  struct Region {
    std::uint64_t start = 0, end = 0;
    bool written = false;
  };
  /// Scans [start, end) of the process whose /proc/PID/pagemap is pagemap_fd.
  void scan(int pagemap_fd, std::uint64_t start, std::uint64_t end);
  /// The regions of exactly [start, end), if scanned.
  const std::vector<Region>* find(std::uint64_t start, std::uint64_t end) const;

 private:
  struct Range {
    std::uint64_t start = 0, end = 0;
    std::vector<Region> regions;
  };
  std::vector<Range> ranges_;
};

/// Splits the present pages of one process's mappings into runs to copy and runs its parent
/// holds.
class PageTracker {
 public:
  /// parent: the pages of the chain so far, or nullptr for an image that copies all.
  /// pagemap_fd, mem_fd: the process's /proc files. rearm: protect the pages found written
  /// again (pagemap-scan), for a pre-dump that another image follows. ahead: scans taken
  /// since the process was held, used instead of scanning the same mapping again.
  PageTracker(Tracking t, const ParentPages* parent, int pagemap_fd, int mem_fd, bool rearm,
              const ScanAhead* ahead = nullptr);
  /// The present pages of vma that filter keeps, in runs to copy and runs the parent holds.
  std::vector<ChainRun> split(const VmaImage& vma, PageFilter filter);
  /// With hash tracking, the XXH3 of every present page split() saw, in its order.
  const std::vector<std::uint64_t>& hashes() const { return hashes_; }

 private:
  // The present pages and which of vma's pages were written, from one PAGEMAP_SCAN.
  std::vector<PageRun> scan(const VmaImage& vma, PageFilter filter, std::vector<bool>& written);
  std::vector<bool> written(const VmaImage& vma, std::span<const std::uint64_t> entries,
                            const std::vector<PageRun>& present);
  Tracking tracking_;
  const ParentPages* parent_;
  int pagemap_fd_, mem_fd_;
  bool rearm_;
  const ScanAhead* ahead_;
  std::vector<std::uint64_t> hashes_;
};

/// Whether a mapping can be write-protected by userfaultfd: private anonymous memory.
bool trackable(const VmaImage& vma);

using InjectSyscall =
    std::function<std::int64_t(std::string_view name, std::initializer_list<std::uint64_t> args)>;

/// Arms pagemap-scan tracking in a held process: registers each trackable mapping not yet
/// registered (no "uw" among its VmFlags) with the process's tracking userfaultfd and
/// write-protects it. fd: that userfaultfd if an earlier image left one, else one is made at
/// a high fd number. scratch: a page of the process for the ioctls' arguments. Returns the fd.
int arm_write_tracking(pid_t pid, const std::vector<VmaImage>& vmas, std::optional<int> fd,
                       RemoteAddr scratch, const InjectSyscall& sys);

/// Whether fd of process pid is a userfaultfd (the one an earlier image left, still there).
bool is_userfaultfd(pid_t pid, int fd);

}  // namespace crossrig::engine
