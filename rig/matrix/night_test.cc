#include "rig/matrix/night.h"

#include <gtest/gtest.h>

#include "rig/matrix/sample_nights.h"

namespace crossrig::rig::matrix {
namespace {

TEST(Night, JsonRoundTripKeepsEveryField) {
  const Night n = testing::sample_nights().back();
  const Night back = night_from_json(nlohmann::json::parse(to_json(n).dump()), "results.json");
  EXPECT_EQ(to_json(back), to_json(n));
  ASSERT_EQ(back.boards.size(), n.boards.size());
  EXPECT_EQ(back.boards[0].firmware_s, n.boards[0].firmware_s);
  EXPECT_EQ(back.boards[0].tests[3].measurement, n.boards[0].tests[3].measurement);
  EXPECT_FALSE(back.builds[3].ok);
  EXPECT_EQ(back.source.commit, std::string(40, 'a'));
}

TEST(Night, BadFieldsAreNamedWithTheirPlace) {
  nlohmann::json j = to_json(testing::sample_nights().back());
  j["boards"][1]["tests"][0]["result"] = "green";
  try {
    night_from_json(j, "results/2026-12-03/results.json");
    FAIL() << "a test result of 'green' was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "results/2026-12-03/results.json.boards[1].tests[0].result is 'green', not pass, "
                 "fail, skip, error or miss");
  }
  j = to_json(testing::sample_nights().back());
  j["builds"][0].erase("ok");
  EXPECT_THROW(night_from_json(j, "r"), std::runtime_error);
  j = to_json(testing::sample_nights().back());
  j.erase("date");
  EXPECT_THROW(night_from_json(j, "r"), std::runtime_error);
  EXPECT_THROW(night_from_json(nlohmann::json::array(), "r"), std::runtime_error);
}

TEST(Night, StatusNamesRoundTripAndLavaUnknownIsAnError) {
  for (Status s : {Status::kPass, Status::kFail, Status::kSkip, Status::kError, Status::kMiss}) {
    EXPECT_EQ(parse_status(status_name(s)), s);
  }
  EXPECT_EQ(parse_status("unknown"), Status::kError);
  EXPECT_EQ(parse_status("PASS"), std::nullopt);
}

TEST(Night, BoardRunFromRigRunMakesPathsRelativeToTheNight) {
  const auto job = nlohmann::json::parse(R"({
    "board": "qemu-aarch64", "arch": "aarch64", "boot": "uboot", "result": "fail",
    "job_dir": "/srv/results/.2026-12-03.tmp/qemu-aarch64",
    "console_log": "/srv/results/.2026-12-03.tmp/qemu-aarch64/console.log",
    "times": {"firmware": 8.5, "kernel": 4.25, "job": null},
    "tests": [{"name": "uname", "result": "pass"},
              {"name": "ckpt/bench_dump_rate_64MiB", "result": "pass", "measurement": "512.5",
               "units": "MiB/s"},
              {"name": "ckpt/lazy", "result": "unknown"}]})");
  const BoardRun r = board_run_from_job(job, "/srv/results/.2026-12-03.tmp");
  EXPECT_EQ(r.job_dir, "qemu-aarch64");
  EXPECT_EQ(r.console_log, "qemu-aarch64/console.log");
  EXPECT_EQ(r.firmware_s, 8.5);
  EXPECT_EQ(r.job_s, std::nullopt);
  ASSERT_EQ(r.tests.size(), 3u);
  EXPECT_EQ(r.tests[1].measurement, 512.5);
  EXPECT_EQ(r.tests[1].units, "MiB/s");
  EXPECT_EQ(r.tests[2].status, Status::kError);
  auto bad = job;
  bad["tests"][1]["measurement"] = "fast";
  const BoardRun unmeasured = board_run_from_job(bad, "/srv/results");
  EXPECT_EQ(unmeasured.tests[1].status, Status::kPass);
  EXPECT_EQ(unmeasured.tests[1].measurement, std::nullopt);
  EXPECT_EQ(board_run_from_job(job, "/elsewhere").console_log,
            "/srv/results/.2026-12-03.tmp/qemu-aarch64/console.log");
}

}  // namespace
}  // namespace crossrig::rig::matrix
