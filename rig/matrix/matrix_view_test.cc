#include "rig/matrix/matrix_view.h"

#include <gtest/gtest.h>

#include "rig/matrix/sample_nights.h"

namespace crossrig::rig::matrix {
namespace {

MatrixView sample_view() {
  const auto nights = testing::sample_nights();
  return analyze(nights.back(), std::span(nights).first(2));
}

TEST(MatrixView, ColumnsFollowTheArchTable) {
  const auto v = sample_view();
  ASSERT_EQ(v.columns.size(), 4u);
  EXPECT_EQ(v.columns[0].board, "qemu-x86_64");
  EXPECT_EQ(v.columns[1].board, "qemu-aarch64");
  EXPECT_EQ(v.columns[2].board, "cell");
  EXPECT_EQ(v.columns[3].board, "qemu-s390x");
  EXPECT_EQ(v.columns[0].boot_seconds, 7.5);
  EXPECT_EQ(v.columns[3].boot_seconds, std::nullopt);
  EXPECT_EQ(v.nights, (std::vector<std::string>{"2026-12-01", "2026-12-02", "2026-12-03"}));
}

TEST(MatrixView, ATestThatPassedLastNightAndFailsIsARegressionSinceTonight) {
  const auto v = sample_view();
  const Cell* c = v.cell("ckpt/restore_threads", "qemu-x86_64");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, Status::kFail);
  EXPECT_EQ(c->previous, Status::kPass);
  EXPECT_TRUE(c->regression);
  EXPECT_EQ(c->failing_since, "2026-12-03");
  EXPECT_EQ(c->last_pass, "2026-12-02");
  EXPECT_EQ(c->log, "qemu-x86_64/console.log");
}

TEST(MatrixView, ALongFailureKeepsTheDateItBeganAndIsNoRegression) {
  const auto v = sample_view();
  const Cell* c = v.cell("ckpt/restore_threads", "cell");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, Status::kFail);
  EXPECT_FALSE(c->regression);
  EXPECT_EQ(c->failing_since, "2026-12-01");
  EXPECT_EQ(c->last_pass, "");
}

TEST(MatrixView, APassAfterFailuresIsAFix) {
  const auto v = sample_view();
  const Cell* c = v.cell("ckpt/lazy", "qemu-x86_64");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, Status::kPass);
  EXPECT_TRUE(c->fixed);
  EXPECT_FALSE(c->regression);
  EXPECT_EQ(c->failing_since, "");
}

TEST(MatrixView, ATestNoLongerReportedIsMissingAndRegresses) {
  const auto v = sample_view();
  const Cell* c = v.cell("ckpt/lazy", "qemu-aarch64");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, Status::kMiss);
  EXPECT_TRUE(c->regression);
  // A board whose job did not run misses every test it used to report.
  const Cell* s = v.cell("uname", "qemu-s390x");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, Status::kMiss);
  EXPECT_TRUE(s->regression);
  EXPECT_EQ(v.cell("ckpt/bench_dump_64MiB", "qemu-s390x"), nullptr)
      << "s390x never reported that test";
}

TEST(MatrixView, SkipsAreNeitherFailuresNorRegressions) {
  const auto v = sample_view();
  const Cell* c = v.cell("ckpt/lazy", "cell");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, Status::kSkip);
  EXPECT_FALSE(c->regression);
  EXPECT_EQ(c->failing_since, "");
}

TEST(MatrixView, TotalsCountEveryCell) {
  const auto v = sample_view();
  // x86: 4 pass 1 fail; aarch64: 4 pass 1 miss; cell: 3 pass 1 fail 1 skip; s390x: 3 miss.
  EXPECT_EQ(v.passed, 11);
  EXPECT_EQ(v.failed, 2);
  EXPECT_EQ(v.skipped, 1);
  EXPECT_EQ(v.missing, 4);
  EXPECT_EQ(v.errors, 0);
  EXPECT_EQ(v.regressions, 5);
  EXPECT_EQ(v.fixes, 1);
  EXPECT_EQ(v.tests,
            (std::vector<std::string>{"ckpt/bench_dump_64MiB", "ckpt/bench_dump_rate_64MiB",
                                      "ckpt/lazy", "ckpt/restore_threads", "uname"}));
}

TEST(MatrixView, TrendsPlotBootTimeAndRatesPerArchOverTheNights) {
  const auto v = sample_view();
  ASSERT_EQ(v.trends.size(), 2u) << "boot time and the one test measured in MiB/s";
  const Trend& boot = v.trends[0];
  EXPECT_EQ(boot.units, "s");
  ASSERT_EQ(boot.series.at("x86_64").size(), 3u);
  EXPECT_EQ(boot.series.at("x86_64")[2].value, 7.5);
  EXPECT_EQ(boot.series.at("s390x").size(), 2u) << "s390x did not boot tonight";
  const Trend& rate = v.trends[1];
  EXPECT_EQ(rate.title, "ckpt/bench_dump_rate_64MiB");
  EXPECT_EQ(rate.units, "MiB/s");
  const auto& x86 = rate.series.at("x86_64");
  ASSERT_EQ(x86.size(), 3u);
  EXPECT_EQ(x86[0].date, "2026-12-01");
  EXPECT_EQ(x86[0].value, 900);
  EXPECT_EQ(x86[2].value, 870);
}

TEST(MatrixView, NightsOnOrAfterTonightAreNotHistory) {
  auto nights = testing::sample_nights();
  const Night tonight = nights[1];
  const auto v = analyze(tonight, nights);
  EXPECT_EQ(v.nights, (std::vector<std::string>{"2026-12-01", "2026-12-02"}));
  EXPECT_EQ(v.regressions, 0);
}

TEST(MatrixView, SeveralBoardsOfOneArchHaveASeriesEach) {
  auto nights = testing::sample_nights();
  Night tonight = nights.back();
  BoardRun second = tonight.boards[0];
  second.board = "x86-server";
  tonight.boards.push_back(second);
  const auto v = analyze(tonight, std::span(nights).first(2));
  EXPECT_EQ(v.columns[0].board, "qemu-x86_64");
  EXPECT_EQ(v.columns[1].board, "x86-server");
  EXPECT_TRUE(v.trends[0].series.count("x86_64 x86-server"));
  EXPECT_TRUE(v.trends[0].series.count("x86_64 qemu-x86_64"));
}

}  // namespace
}  // namespace crossrig::rig::matrix
