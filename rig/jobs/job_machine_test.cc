#include "rig/jobs/job_machine.h"

#include <gtest/gtest.h>

namespace crossrig::rig {
namespace {

using Action = JobMachine::Action;

std::vector<std::string> phases_of(const Attempt& a) {
  std::vector<std::string> out;
  for (const auto& [phase, at] : a.phases)
    out.emplace_back(phase_name(phase));
  return out;
}

TEST(JobMachine, BootsThroughEveryPhaseAndCollectsResults) {
  JobMachine job(BootMethod::kSlof, 0);
  EXPECT_EQ(job.start(0), Action::kPowerCycle);
  EXPECT_EQ(job.on_line("SLOF **********************", 1), Action::kNone);
  EXPECT_EQ(job.phase(), JobPhase::kFirmware);
  job.on_line("[    0.000000] Linux version 6.1.0 (ppc64)", 5);
  EXPECT_EQ(job.phase(), JobPhase::kKernel);
  job.on_line("<LAVA_SIGNAL_STARTRUN 0_smoke 1>", 9);
  job.on_line("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=pass>", 10);
  job.on_line("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=b RESULT=skip>", 11);
  EXPECT_FALSE(job.done());
  EXPECT_EQ(job.on_line("<LAVA_SIGNAL_ENDRUN 0_smoke 1>", 12), Action::kPowerOff);
  EXPECT_EQ(job.outcome(), JobOutcome::kPassed);
  ASSERT_EQ(job.attempts().size(), 1u);
  const Attempt& a = job.attempts()[0];
  EXPECT_EQ(a.end, "completed");
  EXPECT_EQ(phases_of(a),
            (std::vector<std::string>{"power-on", "firmware", "kernel", "test", "done"}));
  EXPECT_EQ(a.phases[2].second, 5);
  ASSERT_EQ(a.results.size(), 2u);
  EXPECT_EQ(a.results[1].id, "b");
  EXPECT_EQ(job.on_line("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=late RESULT=fail>", 13), Action::kNone);
  EXPECT_EQ(job.attempts()[0].results.size(), 2u) << "nothing counts after the end";
}

TEST(JobMachine, OtherFirmwareBannerDoesNotCount) {
  JobMachine job(BootMethod::kUboot, 0);
  job.start(0);
  job.on_line("SLOF", 1);
  EXPECT_EQ(job.phase(), JobPhase::kPowerOn);
  job.on_line("U-Boot 2023.01", 2);
  EXPECT_EQ(job.phase(), JobPhase::kFirmware);
}

TEST(JobMachine, FailedTestOrBadSignalFailsTheJob) {
  JobMachine failed(BootMethod::kIpxe, 0);
  failed.start(0);
  failed.on_line("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=fail>", 1);
  failed.on_line("<LAVA_SIGNAL_ENDRUN 0_smoke 1>", 2);
  EXPECT_EQ(failed.outcome(), JobOutcome::kFailed);

  JobMachine bad(BootMethod::kIpxe, 0);
  bad.start(0);
  bad.on_line("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=maybe>", 1);
  bad.on_line("<LAVA_SIGNAL_ENDRUN 0_smoke 1>", 2);
  EXPECT_EQ(bad.outcome(), JobOutcome::kFailed);
  EXPECT_EQ(bad.attempts()[0].bad_signals.size(), 1u);
}

TEST(JobMachine, HungBoardIsRetriedThenGivenUp) {
  JobMachine job(BootMethod::kUboot, 2);
  job.start(0);
  job.on_line("Linux version 6.1", 3);
  EXPECT_EQ(job.on_timeout(60), Action::kPowerCycle);
  EXPECT_EQ(job.phase(), JobPhase::kPowerOn);
  EXPECT_EQ(job.on_line("[ 1.0] Kernel panic - not syncing: VFS", 70), Action::kPowerCycle);
  EXPECT_EQ(job.on_console_lost(80), Action::kPowerOff);
  EXPECT_EQ(job.outcome(), JobOutcome::kGaveUp);
  ASSERT_EQ(job.attempts().size(), 3u);
  EXPECT_EQ(job.attempts()[0].end, "timed out in kernel");
  EXPECT_EQ(job.attempts()[1].end, "kernel panic");
  EXPECT_EQ(job.attempts()[2].end, "console lost in power-on");
  EXPECT_EQ(job.on_timeout(90), Action::kNone);
}

TEST(JobMachine, RetrySucceedsWithOnlyItsOwnResults) {
  JobMachine job(BootMethod::kS390Netboot, 1);
  job.start(0);
  job.on_line("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=fail>", 1);
  EXPECT_EQ(job.on_timeout(30), Action::kPowerCycle);
  job.on_line("Network boot starting", 31);
  EXPECT_EQ(job.phase(), JobPhase::kFirmware);
  job.on_line("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=pass>", 40);
  job.on_line("<LAVA_SIGNAL_ENDRUN x 1>", 41);
  EXPECT_EQ(job.outcome(), JobOutcome::kPassed);
  EXPECT_EQ(job.attempts()[1].number, 2);
  EXPECT_EQ(job.attempts()[1].results[0].result, "pass");
}

TEST(JobMachine, StageTimesRunFromTheConfirmedPowerOn) {
  JobMachine job(BootMethod::kSlof, 1);
  job.start(0);
  job.on_powered_on(2.5);  // after the off time
  job.on_line("SLOF ****", 3);
  job.on_line("[    0.000000] Linux version 6.1.0", 10);
  job.on_line("<LAVA_SIGNAL_STARTRUN 0_smoke 1>", 14);
  job.on_line("<LAVA_SIGNAL_ENDRUN 0_smoke 1>", 20);
  AttemptTimes t = times_of(job.attempts()[0]);
  EXPECT_EQ(t.firmware, 7.5);
  EXPECT_EQ(t.kernel, 4.0);
  EXPECT_EQ(t.job, 6.0);
}

TEST(JobMachine, StageTimesOfAHungAttemptStopWhereItHung) {
  JobMachine job(BootMethod::kUboot, 0);
  job.start(0);
  job.on_line("[    0.000000] Linux version 6.1.0", 4);
  job.on_timeout(30);
  AttemptTimes t = times_of(job.attempts()[0]);
  EXPECT_EQ(t.firmware, 4.0) << "without a confirmed power-on, from the attempt's start";
  EXPECT_FALSE(t.kernel);
  EXPECT_FALSE(t.job);
}

}  // namespace
}  // namespace crossrig::rig
