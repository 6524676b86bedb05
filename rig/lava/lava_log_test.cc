#include "rig/lava/lava_log.h"

#include <gtest/gtest.h>

#include "tests/support/file_text.h"

namespace crossrig::rig::lava {
namespace {

// A job of rig lava export that lava-server 2023.01 ran on an emulated SLOF board (see
// lava_server_test.cc): its console played a boot with four results, 0.2 s apart.
const std::string kLog =
    test_support::file_text(CROSSRIG_SOURCE_DIR "/rig/lava/testdata/monitor-job.log.yaml");

TEST(LavaLog, TheConsoleIsTheTargetLinesInOrder) {
  const LavaLog log = parse_lava_log(kLog);
  EXPECT_TRUE(log.console.starts_with("Trying 127.0.0.1...\nConnected to 127.0.0.1.\n"))
      << log.console;
  EXPECT_NE(log.console.find("\nSLOF ****\nLinux version 6.1.0 (cap)\n<LAVA_SIGNAL_STARTRUN "
                             "smoke 1>\n"),
            std::string::npos)
      << log.console;
  EXPECT_TRUE(log.console.ends_with("<LAVA_SIGNAL_ENDRUN smoke 1>\n")) << log.console;
  EXPECT_EQ(log.console.find("lava-dispatcher"), std::string::npos) << "not a console line";
}

TEST(LavaLog, TheNamesTheBoardPrintedBehindLavasNames) {
  const LavaLog log = parse_lava_log(kLog);
  using Key = std::pair<std::string, std::string>;
  const std::map<Key, std::string> want{
      {{"rig", "uname"}, "uname"},
      {{"rig", "ckpt_bench_dump_rate_64mib"}, "ckpt/bench_dump_rate_64MiB"},
      {{"rig", "ckpt_vsx"}, "ckpt/vsx"},
      {{"rig", "clone3"}, "clone3"}};
  EXPECT_EQ(log.test_case_ids, want);
}

TEST(LavaLog, WhyLavaFailedTheJob) {
  EXPECT_EQ(parse_lava_log(kLog).job_error, "") << "the job passed";
  const std::string failed =
      R"(- {"dt": "2026-12-05T03:17:46.741913", "lvl": "results", "msg": {"case": "job", "definition": "lava", "error_msg": "lava-test-monitor timed out after 10 seconds", "error_type": "Test", "result": "fail"}})";
  EXPECT_EQ(parse_lava_log(failed).job_error, "Test: lava-test-monitor timed out after 10 seconds");
}

TEST(LavaLog, StagesAreTimedAsRigRunTimesThem) {
  const LavaLog log = parse_lava_log(kLog);
  // pdu-reboot ended 03:07:29.704404, "Linux version" 03:07:29.878021, STARTRUN 03:07:30.078120,
  // ENDRUN 03:07:31.079514.
  ASSERT_TRUE(log.firmware_s && log.kernel_s && log.job_s);
  EXPECT_NEAR(*log.firmware_s, 0.173617, 1e-5);
  EXPECT_NEAR(*log.kernel_s, 0.200099, 1e-5);
  EXPECT_NEAR(*log.job_s, 1.001394, 1e-5);
}

TEST(LavaLog, ARetriedBootIsTimedFromItsLastPowerOn) {
  const std::string retried =
      R"(- {"dt": "2026-12-05T03:00:00.000000", "lvl": "results", "msg": {"case": "pdu-reboot", "definition": "lava", "result": "pass"}}
- {"dt": "2026-12-05T03:00:05.000000", "lvl": "target", "msg": "Linux version 6.1.0"}
- {"dt": "2026-12-05T03:01:00.000000", "lvl": "results", "msg": {"case": "pdu-reboot", "definition": "lava", "result": "pass"}}
- {"dt": "2026-12-05T03:01:02.500000", "lvl": "target", "msg": "[    0.000000] Linux version 6.1.0"}
- {"dt": "2026-12-05T03:01:04.000000", "lvl": "target", "msg": "<LAVA_SIGNAL_STARTRUN smoke 1>"}
)";
  const LavaLog log = parse_lava_log(retried);
  EXPECT_EQ(log.firmware_s, 2.5);
  EXPECT_EQ(log.kernel_s, 1.5);
  EXPECT_FALSE(log.job_s) << "no end signal";
}

TEST(LavaLog, ACutOrForeignLogGivesWhatItHas) {
  const std::string cut = kLog.substr(0, kLog.find("\"<LAVA_SIGNAL_STARTRUN smoke") + 10);
  const LavaLog log = parse_lava_log(cut + "\n- {\"dt\": 3, [[\nnot yaml at all: [\n");
  EXPECT_TRUE(log.console.ends_with("Linux version 6.1.0 (cap)\n")) << log.console;
  EXPECT_TRUE(log.firmware_s);
  EXPECT_FALSE(log.kernel_s);
  EXPECT_TRUE(log.test_case_ids.empty());
  EXPECT_EQ(parse_lava_log("").console, "");
}

}  // namespace
}  // namespace crossrig::rig::lava
