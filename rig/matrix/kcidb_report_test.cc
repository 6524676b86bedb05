#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "rig/matrix/matrix_view.h"
#include "rig/matrix/reports.h"
#include "rig/matrix/sample_nights.h"

namespace crossrig::rig::matrix {
namespace {

using nlohmann::json;

const Links kLinks{"https://lab.example/results/"};

json sample_kcidb(const Links& links = kLinks) {
  auto nights = testing::sample_nights();
  const Night& tonight = nights.back();
  auto view = analyze(tonight, std::span(nights).first(nights.size() - 1));
  return kcidb_json(tonight, view, links);
}

const json& test_of(const json& doc, const std::string& id) {
  for (const auto& t : doc["tests"]) {
    if (t["id"] == id) return t;
  }
  throw std::runtime_error("no test " + id);
}

const json& build_of(const json& doc, const std::string& id) {
  for (const auto& b : doc["builds"]) {
    if (b["id"] == id) return b;
  }
  throw std::runtime_error("no build " + id);
}

TEST(KcidbJson, OneCheckoutOfTheNightsSource) {
  json doc = sample_kcidb();
  EXPECT_EQ(doc["version"], json({{"major", 5}, {"minor", 3}}));
  ASSERT_EQ(doc["checkouts"].size(), 1u);
  const json& c = doc["checkouts"][0];
  EXPECT_EQ(c["id"], "crossrig:2026-12-03:aaaaaaaaaaaa");
  EXPECT_EQ(c["origin"], "crossrig");
  EXPECT_EQ(c["git_repository_url"], "https://git.example.org/crossrig.git");
  EXPECT_EQ(c["git_commit_hash"], std::string(40, 'a'));
  EXPECT_EQ(c["git_repository_branch"], "main");
  EXPECT_EQ(c["comment"], "v0.9-12-gaaaa");
  EXPECT_EQ(c["start_time"], "2026-12-03T01:00:00Z");
  EXPECT_EQ(c["valid"], true);
}

TEST(KcidbJson, ASourceWithoutGitIsLocalAndNamesNoRepository) {
  auto nights = testing::sample_nights();
  Night& tonight = nights.back();
  tonight.source = {"git@example.org:crossrig.git", "abc123", "", ""};
  json doc = kcidb_json(tonight, analyze(tonight, {}), kLinks);
  const json& c = doc["checkouts"][0];
  EXPECT_EQ(c["id"], "crossrig:2026-12-03:local");
  EXPECT_FALSE(c.contains("git_repository_url")) << "only https:// URLs are allowed";
  EXPECT_FALSE(c.contains("git_commit_hash")) << "only full hashes are allowed";
  EXPECT_FALSE(c.contains("comment"));
}

TEST(KcidbJson, IdsAreUniqueAndEveryReferenceResolves) {
  json doc = sample_kcidb();
  const std::string checkout = doc["checkouts"][0]["id"];
  std::set<std::string> builds;
  for (const auto& b : doc["builds"]) {
    EXPECT_TRUE(builds.insert(b["id"]).second) << "duplicate build " << b["id"];
    EXPECT_EQ(b["checkout_id"], checkout);
    EXPECT_EQ(b["origin"], "crossrig");
  }
  EXPECT_EQ(builds.size(), 4u);
  std::set<std::string> tests;
  for (const auto& t : doc["tests"]) {
    EXPECT_TRUE(tests.insert(t["id"]).second) << "duplicate test " << t["id"];
    EXPECT_TRUE(builds.contains(t["build_id"])) << t["id"] << " names build " << t["build_id"];
    EXPECT_EQ(t["origin"], "crossrig");
  }
  // 5 + 5 + 5 cells, qemu-s390x's 3 missing tests and its job.
  EXPECT_EQ(tests.size(), 19u);
  EXPECT_EQ(test_of(doc, "crossrig:2026-12-03:qemu-x86_64:ckpt/lazy")["build_id"],
            "crossrig:2026-12-03:build:x86_64");
}

TEST(KcidbJson, ABoardWhoseArchWasNotBuiltGetsABuildWithoutStatus) {
  auto nights = testing::sample_nights();
  Night& tonight = nights.back();
  tonight.builds.erase(tonight.builds.begin());  // x86_64's
  json doc = kcidb_json(tonight, analyze(tonight, {}), kLinks);
  const json& x86 = build_of(doc, "crossrig:2026-12-03:build:x86_64");
  EXPECT_FALSE(x86.contains("status")) << "nothing is known of how it was built";
  EXPECT_EQ(x86["architecture"], "x86_64");
  EXPECT_EQ(x86["checkout_id"], doc["checkouts"][0]["id"]);
  EXPECT_EQ(doc["builds"].size(), 4u);
}

TEST(KcidbJson, BuildsCarryStatusLogAndOutputFiles) {
  json doc = sample_kcidb();
  const json& x86 = build_of(doc, "crossrig:2026-12-03:build:x86_64");
  EXPECT_EQ(x86["status"], "PASS");
  EXPECT_EQ(x86["architecture"], "x86_64");
  EXPECT_EQ(x86["command"], "toolchains/lab-images --json x86_64");
  EXPECT_EQ(x86["duration"], 12.5);
  EXPECT_EQ(x86["start_time"], "2026-12-01T01:00:00Z");
  EXPECT_EQ(x86["log_url"], "https://lab.example/results/2026-12-03/build-x86_64.log");
  EXPECT_EQ(x86["output_files"],
            json::parse(R"([{"name": "vmlinux", "url": "file:///cache/x86_64/vmlinux"},
                            {"name": "ramdisk.cpio.gz",
                             "url": "file:///cache/x86_64/ramdisk.cpio.gz"}])"));
  EXPECT_EQ(x86["misc"]["kernel_release"], "6.1.0-x86_64");
  const json& s390x = build_of(doc, "crossrig:2026-12-03:build:s390x");
  EXPECT_EQ(s390x["status"], "FAIL");
  EXPECT_FALSE(s390x.contains("output_files"));
}

TEST(KcidbJson, EveryStatusMapsToKcidbs) {
  auto nights = testing::sample_nights();
  Night earlier = nights[0];
  Night tonight = nights[1];
  earlier.date = "2026-01-01";
  tonight.date = "2026-01-02";
  earlier.boards.resize(1);
  tonight.boards.resize(1);
  earlier.boards[0].tests.push_back({"gone", Status::kPass, std::nullopt, ""});
  tonight.boards[0].tests = {{"p", Status::kPass, std::nullopt, ""},
                             {"f", Status::kFail, std::nullopt, ""},
                             {"s", Status::kSkip, std::nullopt, ""},
                             {"e", Status::kError, std::nullopt, ""}};
  json doc = kcidb_json(tonight, analyze(tonight, std::span(&earlier, 1)), kLinks);
  std::map<std::string, std::string> status;
  for (const auto& t : doc["tests"])
    status[t["path"]] = t["status"];
  EXPECT_EQ(status["p"], "PASS");
  EXPECT_EQ(status["f"], "FAIL");
  EXPECT_EQ(status["s"], "SKIP");
  EXPECT_EQ(status["e"], "ERROR");
  EXPECT_EQ(status["gone"], "MISS");
}

TEST(KcidbJson, TestsSayWhereWhenAndSinceWhen) {
  json doc = sample_kcidb();
  const json& t = test_of(doc, "crossrig:2026-12-03:qemu-x86_64:ckpt/restore_threads");
  EXPECT_EQ(t["path"], "ckpt.restore_threads");
  EXPECT_EQ(t["status"], "FAIL");
  EXPECT_EQ(t["log_url"], "https://lab.example/results/2026-12-03/qemu-x86_64/console.log");
  EXPECT_EQ(t["start_time"], "2026-12-01T02:00:00Z");
  EXPECT_EQ(t["environment"]["comment"], "qemu-x86_64 (x86_64, ipxe) on lab1");
  EXPECT_EQ(t["environment"]["misc"],
            json({{"board", "qemu-x86_64"}, {"arch", "x86_64"}, {"boot", "ipxe"}}));
  EXPECT_EQ(t["misc"]["regression"], true);
  EXPECT_EQ(t["misc"]["failing_since"], "2026-12-03");
  EXPECT_EQ(t["comment"], "regression: passed on 2026-12-02");

  const json& old = test_of(doc, "crossrig:2026-12-03:cell:ckpt/restore_threads");
  EXPECT_EQ(old["misc"]["regression"], false);
  EXPECT_EQ(old["misc"]["failing_since"], "2026-12-01");

  const json& rate = test_of(doc, "crossrig:2026-12-03:qemu-x86_64:ckpt/bench_dump_rate_64MiB");
  EXPECT_EQ(rate["number"], json({{"value", 870.0}, {"unit", "MiB/s"}}));
  EXPECT_FALSE(test_of(doc, "crossrig:2026-12-03:qemu-x86_64:uname").contains("number"));
}

TEST(KcidbJson, AJobThatDidNotRunIsAnErrorTestSayingWhy) {
  json doc = sample_kcidb();
  const json& job = test_of(doc, "crossrig:2026-12-03:qemu-s390x");
  EXPECT_EQ(job["path"], "job");
  EXPECT_EQ(job["status"], "ERROR");
  EXPECT_EQ(job["build_id"], "crossrig:2026-12-03:build:s390x");
  EXPECT_NE(job["log_excerpt"].get<std::string>().find("the s390x build failed"),
            std::string::npos);
  EXPECT_FALSE(job.contains("log_url")) << "the job made no console log";
  const json& uname = test_of(doc, "crossrig:2026-12-03:qemu-s390x:uname");
  EXPECT_EQ(uname["status"], "MISS");
  EXPECT_TRUE(uname["comment"].get<std::string>().starts_with("not reported tonight"));
}

TEST(KcidbJson, LinksNeedAnAbsoluteBase) {
  json no_slash = sample_kcidb({"https://lab.example/results"});
  EXPECT_EQ(test_of(no_slash, "crossrig:2026-12-03:cell:uname")["log_url"],
            "https://lab.example/results/2026-12-03/cell/console.log");
  json relative = sample_kcidb({""});
  for (const auto& t : relative["tests"])
    EXPECT_FALSE(t.contains("log_url")) << t["id"];
  for (const auto& b : relative["builds"])
    EXPECT_FALSE(b.contains("log_url")) << b["id"];
}

TEST(KcidbJson, PathsAndTextAreLegalWhateverTheBoardsSay) {
  auto nights = testing::sample_nights();
  Night& tonight = nights.back();
  auto& tests = tonight.boards[0].tests;
  for (const char* name :
       {"a//b", "/lead", "trail/", "dots.and spaces", "", "caf\xc3\xa9/x", "bad\xff", "nul\x01"}) {
    tests.push_back({name, Status::kPass, std::nullopt, ""});
  }
  tonight.boards.back().error = std::string("console\0said \xfe", 14);
  json doc = kcidb_json(tonight, analyze(tonight, {}), kLinks);
  // The schema's path pattern: dot-separated segments of [a-zA-Z0-9_-].
  const std::regex path(R"(([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?)");
  std::set<std::string> paths;
  for (const auto& t : doc["tests"]) {
    const std::string p = t["path"];
    EXPECT_TRUE(std::regex_match(p, path)) << "illegal path '" << p << "' of " << t["id"];
    EXPECT_FALSE(p.empty()) << t["id"] << " would claim the root of the tree";
    paths.insert(p);
  }
  EXPECT_TRUE(paths.contains("a._.b"));
  EXPECT_TRUE(paths.contains("_.lead"));
  EXPECT_TRUE(paths.contains("dots_and_spaces"));
  std::string text;
  ASSERT_NO_THROW(text = doc.dump()) << "every string must be valid UTF-8";
  EXPECT_EQ(text.find("\\u0000"), std::string::npos) << "KCIDB forbids NUL in text";
}

}  // namespace
}  // namespace crossrig::rig::matrix
