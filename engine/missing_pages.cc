#include "engine/missing_pages.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace crossrig::engine {

void MissingPages::add(const LazyRun& run) {
  if (run.npages == 0) return;
  const std::uint64_t end = run.vaddr + run.npages * page_;
  auto next = runs_.lower_bound(run.vaddr);
  const bool overlaps_next = next != runs_.end() && next->first < end;
  const bool overlaps_prev =
      next != runs_.begin() &&
      std::prev(next)->first + std::prev(next)->second.npages * page_ > run.vaddr;
  if (overlaps_next || overlaps_prev)
    throw std::logic_error("MissingPages::add: run at " + std::to_string(run.vaddr) +
                           " overlaps another");
  runs_.emplace(run.vaddr, run);
  pages_ += run.npages;
}

std::vector<LazyRun> MissingPages::within(std::uint64_t begin, std::uint64_t end,
                                          std::uint64_t max_pages) const {
  std::vector<LazyRun> out;
  auto it = runs_.upper_bound(begin);
  if (it != runs_.begin()) --it;
  for (; it != runs_.end() && it->first < end && max_pages > 0; ++it) {
    const LazyRun& r = it->second;
    const std::uint64_t from = std::max(begin, r.vaddr);
    const std::uint64_t to = std::min(end, r.vaddr + r.npages * page_);
    if (from >= to) continue;
    const std::uint64_t n = std::min(max_pages, (to - from) / page_);
    if (n == 0) continue;
    out.push_back({from, n, r.source, r.offset + (from - r.vaddr)});
    max_pages -= n;
  }
  return out;
}

std::vector<LazyRun> MissingPages::around(std::uint64_t vaddr, std::uint64_t block_pages) const {
  const std::uint64_t block = block_pages * page_;
  const std::uint64_t begin = vaddr / block * block;
  return within(begin, begin + block, block_pages);
}

std::vector<LazyRun> MissingPages::first(std::uint64_t max_pages) const {
  return within(0, ~std::uint64_t{0}, max_pages);
}

bool MissingPages::contains(std::uint64_t vaddr) const {
  const std::uint64_t page = vaddr / page_ * page_;
  return any_in(page, page + page_);
}

bool MissingPages::any_in(std::uint64_t begin, std::uint64_t end) const {
  return !within(begin, end, 1).empty();
}

void MissingPages::forget(std::uint64_t begin, std::uint64_t end) {
  auto it = runs_.upper_bound(begin);
  if (it != runs_.begin()) --it;
  while (it != runs_.end() && it->first < end) {
    const LazyRun r = it->second;
    const std::uint64_t r_end = r.vaddr + r.npages * page_;
    if (r_end <= begin) {
      ++it;
      continue;
    }
    it = runs_.erase(it);
    pages_ -= r.npages;
    if (r.vaddr < begin) {
      runs_.emplace(r.vaddr, LazyRun{r.vaddr, (begin - r.vaddr) / page_, r.source, r.offset});
      pages_ += (begin - r.vaddr) / page_;
    }
    if (r_end > end) {
      it = runs_
               .emplace(end,
                        LazyRun{end, (r_end - end) / page_, r.source, r.offset + (end - r.vaddr)})
               .first;
      pages_ += (r_end - end) / page_;
      ++it;
    }
  }
}

void MissingPages::move(std::uint64_t from, std::uint64_t to, std::uint64_t len) {
  std::vector<LazyRun> moving = within(from, from + len, ~std::uint64_t{0});
  forget(from, from + len);
  // mremap unmaps whatever lay at the destination.
  forget(to, to + len);
  for (LazyRun r : moving) {
    r.vaddr = r.vaddr - from + to;
    add(r);
  }
}

}  // namespace crossrig::engine
