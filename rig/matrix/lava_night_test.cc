#include "rig/matrix/lava_night.h"

#include <gtest/gtest.h>

namespace crossrig::rig::matrix {
namespace {

const lava::SubmittedJob kCell{"cell",
                               "ppc64",
                               "slof",
                               "default",
                               "jobs/cell-default.yaml",
                               12,
                               "http://lava/scheduler/job/12"};

lava::LavaJob finished(const std::string& health) {
  lava::LavaJob j;
  j.id = 12;
  j.state = "Finished";
  j.health = health;
  j.start_time = "2026-12-05T03:07:27.009545Z";
  j.end_time = "2026-12-05T03:07:46.981241Z";
  return j;
}

std::vector<lava::LavaTestCase> cases(const std::string& clone3) {
  return {{"lava", "job", "pass", std::nullopt, ""},
          {"rig", "ckpt_bench_dump_rate_64mib", "pass", 812.5, "MiB/s"},
          {"rig", "clone3", clone3, std::nullopt, ""},
          {"0_smoke", "dmesg", "skip", std::nullopt, ""}};
}

lava::LavaLog printed() {
  lava::LavaLog log;
  log.test_case_ids[{"rig", "ckpt_bench_dump_rate_64mib"}] = "ckpt/bench_dump_rate_64MiB";
  log.test_case_ids[{"rig", "clone3"}] = "clone3";
  log.kernel_s = 0.2;
  log.job_error = "Test: lava-test-monitor timed out after 10 seconds";
  return log;
}

TEST(LavaBoardRun, ACompleteJobWithItsTestsUnderThePrintedNames) {
  const BoardRun r = lava_board_run(kCell, finished("Complete"), cases("pass"), printed());
  EXPECT_EQ(r.board, "cell");
  EXPECT_EQ(r.arch, "ppc64");
  EXPECT_EQ(r.result, "pass");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.started, "2026-12-05T03:07:27Z");
  EXPECT_NEAR(r.seconds, 19.971696, 1e-5);
  EXPECT_EQ(r.kernel_s, 0.2);
  ASSERT_EQ(r.tests.size(), 3u) << "LAVA's own suite left out";
  EXPECT_EQ(r.tests[0].name, "ckpt/bench_dump_rate_64MiB");
  EXPECT_EQ(r.tests[0].measurement, 812.5);
  EXPECT_EQ(r.tests[0].units, "MiB/s");
  EXPECT_EQ(r.tests[1].name, "clone3");
  EXPECT_EQ(r.tests[2].name, "0_smoke/dmesg") << "a case the log names no original for";
  EXPECT_EQ(r.tests[2].status, Status::kSkip);
}

TEST(LavaBoardRun, AFailedOrUnknownCaseFailsACompleteJob) {
  EXPECT_EQ(lava_board_run(kCell, finished("Complete"), cases("fail"), printed()).result, "fail");
  const BoardRun r = lava_board_run(kCell, finished("Complete"), cases("unknown"), printed());
  EXPECT_EQ(r.result, "fail");
  EXPECT_EQ(r.tests[1].status, Status::kError);
}

TEST(LavaBoardRun, AnIncompleteJobIsAnErrorWithTheAdminsElseLavasReason) {
  BoardRun r = lava_board_run(kCell, finished("Incomplete"), cases("pass"), printed());
  EXPECT_EQ(r.result, "error");
  EXPECT_EQ(r.error,
            "LAVA job 12 (http://lava/scheduler/job/12) ended Incomplete: Test: lava-test-monitor "
            "timed out after 10 seconds");
  lava::LavaJob commented = finished("Canceled");
  commented.failure_comment = "board pulled for repair";
  r = lava_board_run(kCell, commented, {}, printed());
  EXPECT_EQ(r.result, "error");
  EXPECT_EQ(r.error,
            "LAVA job 12 (http://lava/scheduler/job/12) ended Canceled: board pulled "
            "for repair");
}

TEST(LavaBoardRun, AJobNotFinishedIsAnErrorSayingWhereItIs) {
  lava::LavaJob queued;
  queued.id = 12;
  queued.state = "Submitted";
  queued.health = "Unknown";
  const BoardRun r = lava_board_run(kCell, queued, {}, {});
  EXPECT_EQ(r.result, "error");
  EXPECT_EQ(r.error, "LAVA job 12 (http://lava/scheduler/job/12) is still Submitted in LAVA");
  EXPECT_EQ(r.started, "");
  EXPECT_EQ(r.seconds, 0);
}

}  // namespace
}  // namespace crossrig::rig::matrix
