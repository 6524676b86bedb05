#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace crossrig::engine {

/// A run of consecutive pages at vaddr whose contents the image holds.
struct PageRun {
  std::uint64_t vaddr = 0;
  std::uint64_t npages = 0;
};

/// Which pages of a mapping hold data that must be dumped.
enum class PageFilter {
  kPresent,   ///< Every page present in memory or swap (anonymous memory, shared or not).
  kAnonOnly,  ///< Only pages that became anonymous (copy-on-write of a private file mapping).
};

/// Runs of pages to dump, from the /proc/PID/pagemap entries of a mapping starting at start.
std::vector<PageRun> pages_to_dump(std::uint64_t start, std::span<const std::uint64_t> entries,
                                   PageFilter filter, std::size_t page_size);

/// The part of [vaddr, vaddr + len) made of whole aligned blocks of block bytes (huge pages),
/// as {begin, end}; begin == end when the range holds no whole block.
std::pair<std::uint64_t, std::uint64_t> whole_blocks(std::uint64_t vaddr, std::uint64_t len,
                                                     std::uint64_t block);

}  // namespace crossrig::engine
