#include "engine/missing_pages.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace crossrig::engine {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kBase = 0x10000000;

std::uint64_t at(std::uint64_t page) {
  return kBase + page * kPage;
}

// Two runs from two sources with a hole between them (pages 8 and 9).
MissingPages two_runs() {
  MissingPages m(kPage);
  m.add({at(0), 8, 0, 0});
  m.add({at(10), 6, 1, 40 * kPage});
  return m;
}

TEST(MissingPages, AroundGivesTheMissingPagesOfTheBlockWithTheirOffsets) {
  const MissingPages m = two_runs();
  EXPECT_EQ(m.pages(), 14U);
  // Block 1 of four pages is pages 4..7, all in the first run.
  EXPECT_EQ(m.around(at(5) + 123, 4), (std::vector<LazyRun>{{at(4), 4, 0, 4 * kPage}}));
  // Block 2 is pages 8..11: the hole, then the first two of the second run.
  EXPECT_EQ(m.around(at(8), 4), (std::vector<LazyRun>{{at(10), 2, 1, 40 * kPage}}));
  EXPECT_TRUE(m.around(at(100), 4).empty());
}

TEST(MissingPages, FirstStopsAtTheLimitAcrossRuns) {
  const MissingPages m = two_runs();
  EXPECT_EQ(m.first(10), (std::vector<LazyRun>{{at(0), 8, 0, 0}, {at(10), 2, 1, 40 * kPage}}));
}

TEST(MissingPages, ForgetSplitsARunAndKeepsOffsetsRight) {
  MissingPages m = two_runs();
  m.forget(at(2), at(5));
  EXPECT_EQ(m.pages(), 11U);
  EXPECT_FALSE(m.contains(at(2)));
  EXPECT_FALSE(m.contains(at(4) + 4095));
  EXPECT_TRUE(m.contains(at(1)));
  EXPECT_EQ(m.first(100),
            (std::vector<LazyRun>{
                {at(0), 2, 0, 0}, {at(5), 3, 0, 5 * kPage}, {at(10), 6, 1, 40 * kPage}}));
  // Across the hole and both runs' ends.
  m.forget(at(6), at(12));
  EXPECT_EQ(m.first(100),
            (std::vector<LazyRun>{
                {at(0), 2, 0, 0}, {at(5), 1, 0, 5 * kPage}, {at(12), 4, 1, 42 * kPage}}));
  m.forget(0, ~std::uint64_t{0});
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.pages(), 0U);
}

TEST(MissingPages, MoveFollowsMremapAndDropsWhatLayAtTheDestination) {
  MissingPages m = two_runs();
  // Pages 2..5 move onto pages 12..15, which the second run held: those are unmapped now.
  m.move(at(2), at(12), 4 * kPage);
  EXPECT_EQ(m.first(100), (std::vector<LazyRun>{{at(0), 2, 0, 0},
                                                {at(6), 2, 0, 6 * kPage},
                                                {at(10), 2, 1, 40 * kPage},
                                                {at(12), 4, 0, 2 * kPage}}));
  EXPECT_EQ(m.pages(), 10U);
}

TEST(MissingPages, RefusesOverlappingRuns) {
  MissingPages m = two_runs();
  EXPECT_THROW(m.add({at(7), 2, 0, 0}), std::logic_error);
  EXPECT_THROW(m.add({at(9), 2, 0, 0}), std::logic_error);
  m.add({at(8), 2, 2, 0});
  EXPECT_TRUE(m.contains(at(9)));
}

}  // namespace
}  // namespace crossrig::engine
