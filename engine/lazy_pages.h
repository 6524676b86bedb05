#pragma once
// Serves the pages of lazily restored processes through their userfaultfds: a page is copied
// in the moment a thread touches it, and meanwhile every other missing page is copied in the
// background, until each address space is whole and its userfaultfd can be closed.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/unique_fd.h"
#include "engine/missing_pages.h"
#include "engine/page_files.h"

namespace crossrig::engine {

/// The userfaultfd features lazy restore needs: the events that change which pages are
/// missing (fork, mremap, munmap, madvise(MADV_DONTNEED)).
std::uint64_t lazy_uffd_features();

/// Where the remote pages of a post-copy migration come from (PageSource::remote): the
/// frozen source, over the migration's connection.
class RemotePages {
 public:
  virtual ~RemotePages() = default;
  /// Fills out with the bytes at vaddr of process pid (as the image names it) on the
  /// source. Throws when they cannot come: the link is lost, or the source refuses.
  virtual void fetch(pid_t pid, std::uint64_t vaddr, std::span<std::uint8_t> out) = 0;
  /// Tells the source that every page arrived: it may drop its copy.
  virtual void all_arrived() = 0;
  /// The descriptor a server process must keep open.
  virtual int fd() const = 0;
};

/// What serving took.
struct LazyStats {
  std::uint64_t faults = 0;            ///< Faults on a missing page, each served at once.
  std::uint64_t fault_pages = 0;       ///< Pages copied to serve them.
  std::uint64_t prefetched_pages = 0;  ///< Pages copied in the background.
  std::uint64_t zero_pages = 0;        ///< Pages the image did not hold, given as zeros.
  std::uint64_t remote_pages = 0;      ///< Of those copied, pages fetched from the source.
  std::uint64_t forks = 0;             ///< Children forked while pages were missing.
  double seconds = 0;                  ///< From the first fault or copy to the last page.
};

class LazyPages {
 public:
  /// remote: where the remote runs' pages come from (none without a post-copy migration).
  explicit LazyPages(std::size_t page_size, std::shared_ptr<RemotePages> remote = nullptr)
      : page_(page_size), remote_(std::move(remote)) {}

  /// Takes over the address space of process pid (as the image names it): uffd is its
  /// userfaultfd (UFFDIO_API done with lazy_uffd_features(), the ranges registered for
  /// missing pages), files and missing say what to fill it with.
  void add(pid_t pid, UniqueFd uffd, std::shared_ptr<PageFiles> files, MissingPages missing);

  /// Serves until every address space is whole or gone, then tells the remote source so.
  /// Throws CkptError when a page cannot be served (a chunk of an image file fails its
  /// check, the source is lost, userfaultfd fails): the processes can then not run on
  /// correctly, and the caller kills them.
  LazyStats run();

 private:
  struct Space {
    pid_t pid;  ///< Whose memory on the source the remote runs are (a forked child's parent).
    UniqueFd uffd;
    std::shared_ptr<PageFiles> files;
    MissingPages missing;
  };
  enum class Copied { kAll, kRetry, kGone };

  bool read_events(Space& s);
  void serve_fault(Space& s, std::uint64_t addr);
  Copied copy(Space& s, const std::vector<LazyRun>& runs, std::uint64_t* pages);
  bool zero_page(Space& s, std::uint64_t page);
  /// Copies the next block of missing pages of some space in the background; false when
  /// none is left.
  bool prefetch();

  std::size_t page_;
  std::shared_ptr<RemotePages> remote_;
  std::vector<std::uint8_t> fetched_;
  std::vector<std::unique_ptr<Space>> spaces_;
  std::size_t next_ = 0;
  LazyStats stats_;
};

}  // namespace crossrig::engine
