#pragma once
// The pages of a lazily restored address space that are not in memory yet, by address, each
// with where its bytes lie. Kept in step with what the process does to its mappings meanwhile
// (munmap, madvise(MADV_DONTNEED), mremap), as userfaultfd's events report it.

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace crossrig::engine {

/// Pages at vaddr whose bytes lie at offset in the file of page source `source`.
struct LazyRun {
  std::uint64_t vaddr = 0, npages = 0;
  std::size_t source = 0;
  std::uint64_t offset = 0;
  bool operator==(const LazyRun&) const = default;
};

class MissingPages {
 public:
  explicit MissingPages(std::size_t page_size) : page_(page_size) {}

  /// Adds a run; it must not overlap one already here.
  void add(const LazyRun& run);
  /// The missing pages of the aligned block of block_pages pages holding vaddr, in address
  /// order (empty if none is missing).
  std::vector<LazyRun> around(std::uint64_t vaddr, std::uint64_t block_pages) const;
  /// The lowest missing pages, at most max_pages of them, in address order.
  std::vector<LazyRun> first(std::uint64_t max_pages) const;
  /// Whether the page at vaddr is missing.
  bool contains(std::uint64_t vaddr) const;
  /// Whether a page of [begin, end) is missing.
  bool any_in(std::uint64_t begin, std::uint64_t end) const;
  /// [begin, end) is no longer to be filled: it was filled, or the process unmapped or
  /// discarded it (it reads zeros there now).
  void forget(std::uint64_t begin, std::uint64_t end);
  /// The process moved [from, from + len) to `to` (mremap).
  void move(std::uint64_t from, std::uint64_t to, std::uint64_t len);
  bool empty() const { return runs_.empty(); }
  std::uint64_t pages() const { return pages_; }

 private:
  std::vector<LazyRun> within(std::uint64_t begin, std::uint64_t end,
                              std::uint64_t max_pages) const;

  std::size_t page_;
  std::map<std::uint64_t, LazyRun> runs_;  ///< By vaddr.
  std::uint64_t pages_ = 0;
};

}  // namespace crossrig::engine
