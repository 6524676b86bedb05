#pragma once
// The restore side of lazy pages: which pages of a process wait for their first touch, the
// userfaultfd that reports it, and the process that serves them once the tree runs.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "engine/lazy_pages.h"
#include "engine/missing_pages.h"
#include "engine/page_chain.h"
#include "engine/page_files.h"
#include "engine/task_image.h"

namespace crossrig::engine {

/// Whether the pages of a mapping may be left for their first touch: private anonymous
/// memory, the kind userfaultfd fills from outside. Shared memory is filled at once (another
/// process of the tree may map it), and so is memory the process cannot read (it never
/// faults on it) or that a fork would not copy as it is (MADV_WIPEONFORK, MADV_DONTFORK).
bool may_fill_lazily(const VmaImage& v);

/// Addresses whose pages the threads of cores need before a lazy-pages server could serve
/// them, filled at restore even when lazy: the kernel writes them itself (rseq areas,
/// signal frames below the stack pointer or on the alternate stack).
std::vector<std::uint64_t> pages_needed_at_once(const std::vector<CoreImage>& cores,
                                                std::size_t page_size);

/// Splits the runs of pages source `index` gives: those in mappings that may be filled
/// lazily go to missing, except the pages listed in eager (pages_needed_at_once); returns
/// the runs to fill now. A remote source's runs must all be lazy: throws kBadImage for one
/// that is not (its bytes are on another host).
std::vector<PagemapEntry> defer_lazy_runs(const PageSource& src, std::size_t index,
                                          const MmImage& mm,
                                          const std::vector<std::uint64_t>& eager,
                                          std::size_t page_size, MissingPages& missing);

/// One lazily restored address space, ready for its server.
struct LazySpace {
  pid_t pid = 0;
  UniqueFd uffd;
  std::shared_ptr<PageFiles> files;
  MissingPages missing;
};

/// Runs a syscall in the process being restored.
using RestoreSyscall =
    std::function<std::uint64_t(std::string_view name, std::initializer_list<std::uint64_t> args)>;

/// Makes a userfaultfd in process pid (its memory is the one the fd reports on) and takes it
/// over: ckpt's copy, with the lazy-pages features. Must run while the process may still
/// make one (before its credentials drop).
UniqueFd take_userfaultfd(pid_t pid, const RestoreSyscall& inject);

/// Registers the mappings of mm that hold missing pages with the userfaultfd.
void register_missing(int uffd, const MmImage& mm, const MissingPages& missing);

/// Forks the process that serves the spaces' pages (their fds move to it, and remote's) and
/// returns its pid. If it cannot serve a page, it kills every process of the spaces and
/// their descendants and exits 1; otherwise it prints what it copied on stderr (when
/// verbose) and exits 0 once every space is whole. remote: where a post-copy migration's
/// remote pages come from; this process must not use its connection any more.
pid_t start_lazy_pages(std::vector<LazySpace>& spaces, bool verbose,
                       std::shared_ptr<RemotePages> remote);

}  // namespace crossrig::engine
