#include "engine/pagemap.h"

#include <gtest/gtest.h>

namespace crossrig::engine {
namespace {

constexpr std::uint64_t P = 1ULL << 63, S = 1ULL << 62, F = 1ULL << 61;

TEST(PagesToDump, MergesAdjacentPresentAndSwappedPages) {
  std::uint64_t e[] = {P, S, 0, P | F, 0, 0, P};
  auto runs = pages_to_dump(0x10000, e, PageFilter::kPresent, 0x1000);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].vaddr, 0x10000u);
  EXPECT_EQ(runs[0].npages, 2u);
  EXPECT_EQ(runs[1].vaddr, 0x13000u);
  EXPECT_EQ(runs[1].npages, 1u);
  EXPECT_EQ(runs[2].vaddr, 0x16000u);
}

TEST(PagesToDump, AnonOnlySkipsPageCachePages) {
  std::uint64_t e[] = {P | F, P, P | F};
  auto runs = pages_to_dump(0, e, PageFilter::kAnonOnly, 0x1000);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].vaddr, 0x1000u);
  EXPECT_EQ(runs[0].npages, 1u);
}

TEST(PagesToDump, UntouchedMappingHasNoRuns) {
  std::uint64_t e[8] = {};
  EXPECT_TRUE(pages_to_dump(0, e, PageFilter::kPresent, 0x1000).empty());
}

TEST(WholeBlocks, KeepsOnlyAlignedBlocksInsideTheRange) {
  constexpr std::uint64_t M2 = 2 << 20;
  EXPECT_EQ(whole_blocks(M2 - 0x1000, 3 * M2, M2), std::pair(M2, 3 * M2));
  EXPECT_EQ(whole_blocks(2 * M2, 2 * M2, M2), std::pair(2 * M2, 4 * M2));
}

TEST(WholeBlocks, RangeWithoutAWholeBlockIsEmpty) {
  constexpr std::uint64_t M2 = 2 << 20;
  auto [b, e] = whole_blocks(M2 + 0x1000, M2, M2);
  EXPECT_EQ(b, e);
  auto [b0, e0] = whole_blocks(0, 4 * M2, 0);
  EXPECT_EQ(b0, e0);
}

}  // namespace
}  // namespace crossrig::engine
