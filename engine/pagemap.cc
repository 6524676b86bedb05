#include "engine/pagemap.h"

namespace crossrig::engine {
namespace {
// Bits of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
constexpr std::uint64_t kPresent = 1ULL << 63, kSwapped = 1ULL << 62, kFileOrShared = 1ULL << 61;
}  // namespace

std::vector<PageRun> pages_to_dump(std::uint64_t start, std::span<const std::uint64_t> entries,
                                   PageFilter filter, std::size_t page_size) {
  std::vector<PageRun> runs;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::uint64_t e = entries[i];
    bool keep = (e & (kPresent | kSwapped)) != 0;
    if (filter == PageFilter::kAnonOnly && (e & kFileOrShared) != 0) keep = false;
    if (!keep) continue;
    std::uint64_t va = start + i * page_size;
    if (!runs.empty() && runs.back().vaddr + runs.back().npages * page_size == va) {
      ++runs.back().npages;
    } else {
      runs.push_back({va, 1});
    }
  }
  return runs;
}

std::pair<std::uint64_t, std::uint64_t> whole_blocks(std::uint64_t vaddr, std::uint64_t len,
                                                     std::uint64_t block) {
  if (block == 0) return {vaddr, vaddr};
  std::uint64_t begin = (vaddr + block - 1) / block * block;
  std::uint64_t end = (vaddr + len) / block * block;
  return end > begin ? std::pair{begin, end} : std::pair{vaddr, vaddr};
}

}  // namespace crossrig::engine
