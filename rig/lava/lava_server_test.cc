// The REST API's replies as lava-server 2023.01 sent them (rig/lava/testdata/monitor-job.*:
// a job of rig lava export run by rig/lava/local-lava on an emulated board), and what rig makes
// of the URLs and token files users give.

#include "rig/lava/lava_server.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace crossrig::rig::lava {
namespace {

using nlohmann::json;

std::string write(const test_support::TempDir& dir, const std::string& name,
                  const std::string& text) {
  const std::string path = (dir.path() / name).string();
  std::ofstream(path) << text;
  return path;
}

json testdata(const std::string& name) {
  std::ifstream in(CROSSRIG_SOURCE_DIR "/rig/lava/testdata/" + name);
  EXPECT_TRUE(in) << name;
  return json::parse(in);
}

TEST(LavaServerUrl, TakesTheWebApiAndXmlRpcAddressesOfOneServer) {
  for (const char* url : {"https://lava.example.org", "https://lava.example.org/",
                          "https://lava.example.org/api/v0.2/", "https://lava.example.org/RPC2",
                          "https://lava.example.org/RPC2/"}) {
    EXPECT_EQ(server_base_url(url), "https://lava.example.org/") << url;
  }
  EXPECT_EQ(server_base_url("http://127.0.0.1:8765/lava"), "http://127.0.0.1:8765/lava/");
}

TEST(LavaServerUrl, RefusesWhatIsNotAnHttpUrlAndTokensInTheUrl) {
  for (const char* url : {"lava.example.org", "ftp://lava.example.org/", ""}) {
    EXPECT_THROW(server_base_url(url), std::invalid_argument) << url;
  }
  try {
    server_base_url("https://admin:secret@lava.example.org/RPC2");
    ADD_FAILURE() << "a token in the URL was taken";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--token-file"), std::string::npos) << e.what();
  }
}

TEST(LavaTokenFile, IsTheFirstLineTrimmed) {
  test_support::TempDir dir("lava-token");
  EXPECT_EQ(read_token_file(write(dir, "t", "  abc123xyz \r\nsecond line\n")), "abc123xyz");
  EXPECT_EQ(read_token_file(write(dir, "u", "abc")), "abc");
}

TEST(LavaTokenFile, MissingOrEmptySaysWhatToPutThere) {
  test_support::TempDir dir("lava-token");
  EXPECT_THROW(read_token_file((dir.path() / "absent").string()), std::runtime_error);
  try {
    read_token_file(write(dir, "empty", "\n"));
    ADD_FAILURE() << "an empty token file was taken";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tokens add"), std::string::npos) << e.what();
  }
}

TEST(LavaReplies, AFinishedJob) {
  const LavaJob job = parse_job(testdata("monitor-job.json"));
  EXPECT_EQ(job.id, 1);
  EXPECT_EQ(job.state, "Finished");
  EXPECT_TRUE(job.finished());
  EXPECT_EQ(job.health, "Complete");
  EXPECT_EQ(job.description, "cell default job");
  EXPECT_EQ(job.actual_device, "cell");
  EXPECT_EQ(job.start_time, "2026-12-05T03:07:27.009545Z");
  EXPECT_EQ(job.end_time, "2026-12-05T03:07:46.981241Z");
  EXPECT_EQ(job.failure_comment, "");
}

TEST(LavaReplies, AJobNotYetRunHasNoTimesOrDevice) {
  json j = testdata("monitor-job.json");
  j["state"] = "Submitted";
  j["health"] = "Unknown";
  j["actual_device"] = nullptr;
  j["start_time"] = nullptr;
  j["end_time"] = nullptr;
  const LavaJob job = parse_job(j);
  EXPECT_FALSE(job.finished());
  EXPECT_EQ(job.actual_device, "");
  EXPECT_EQ(job.start_time, "");
}

TEST(LavaReplies, TestCasesWithTheirSuitesMeasurementsAndUnits) {
  std::vector<std::pair<long, std::string>> suites;
  const json listed = testdata("monitor-job.suites.json");
  for (const auto& s : listed["results"])
    suites.emplace_back(s["id"].get<long>(), s["name"].get<std::string>());
  const auto cases = parse_test_cases(testdata("monitor-job.tests.json"), suites);
  ASSERT_EQ(cases.size(), 9u);
  std::map<std::string, const LavaTestCase*> rig;
  int lava = 0;
  for (const auto& c : cases) {
    if (c.suite == "rig") rig[c.name] = &c;
    if (c.suite == "lava") ++lava;
  }
  EXPECT_EQ(lava, 5);
  ASSERT_EQ(rig.size(), 4u);
  EXPECT_EQ(rig["uname"]->result, "pass");
  EXPECT_FALSE(rig["uname"]->measurement);
  const LavaTestCase& rate = *rig["ckpt_bench_dump_rate_64mib"];
  EXPECT_EQ(rate.result, "pass");
  EXPECT_EQ(rate.measurement, 812.5);
  EXPECT_EQ(rate.unit, "MiB/s");
  EXPECT_EQ(rig["ckpt_vsx"]->result, "skip");
  EXPECT_EQ(rig["clone3"]->result, "fail");
}

TEST(LavaReplies, WhatIsNotLavasShapeIsAProtocolError) {
  const std::vector<std::pair<long, std::string>> suites{{1, "lava"}};
  auto kind_of = [](auto&& f) {
    try {
      f();
    } catch (const LavaError& e) {
      return static_cast<int>(e.kind());
    }
    return -1;
  };
  json no_id = testdata("monitor-job.json");
  no_id.erase("id");
  EXPECT_EQ(kind_of([&] { parse_job(no_id); }), LavaError::kProtocol);
  EXPECT_EQ(kind_of([&] { parse_job(json::array()); }), LavaError::kProtocol);
  EXPECT_EQ(kind_of([&] { parse_test_cases(json{{"count", 0}}, suites); }), LavaError::kProtocol);
  json tests = testdata("monitor-job.tests.json");
  tests["results"][0]["measurement"] = "fast";
  EXPECT_EQ(kind_of([&] { parse_test_cases(tests, suites); }), LavaError::kProtocol);
  // A case of a suite the job does not have.
  EXPECT_EQ(kind_of([&] { parse_test_cases(testdata("monitor-job.tests.json"), suites); }),
            LavaError::kProtocol);
}

}  // namespace
}  // namespace crossrig::rig::lava
