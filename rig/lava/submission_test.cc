#include "rig/lava/submission.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace crossrig::rig::lava {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(JobFiles, BoardArchAndBootFromRigsMetadataElseTheFileName) {
  test_support::TempDir dir("lava-jobs");
  write(dir.path() / "jobs/cell-default.yaml",
        "device_type: crossrig-slof\nmetadata:\n  rig.board: cell\n  rig.arch: ppc64\n"
        "  rig.boot: slof\nactions: []\n");
  write(dir.path() / "jobs/my-rpi-nightly.yaml", "device_type: bcm2711-rpi-4-b\nactions: []\n");
  write(dir.path() / "jobs/README", "not a job");
  const auto files = read_job_files(dir.path().string());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "jobs/cell-default.yaml");
  EXPECT_EQ(files[0].board, "cell");
  EXPECT_EQ(files[0].arch, "ppc64");
  EXPECT_EQ(files[0].boot, "slof");
  EXPECT_EQ(files[0].job, "default");
  EXPECT_NE(files[0].text.find("device_type: crossrig-slof"), std::string::npos);
  EXPECT_EQ(files[1].board, "my-rpi");
  EXPECT_EQ(files[1].job, "nightly");
  EXPECT_EQ(files[1].arch, "");
}

TEST(JobFiles, AFileThatIsNotAJobIsNamed) {
  test_support::TempDir dir("lava-jobs");
  write(dir.path() / "jobs/a-default.yaml", "actions: [unclosed\n");
  try {
    read_job_files(dir.path().string());
    ADD_FAILURE() << "broken YAML was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a-default.yaml"), std::string::npos) << e.what();
  }
  write(dir.path() / "jobs/a-default.yaml", "- a list\n");
  EXPECT_THROW(read_job_files(dir.path().string()), std::runtime_error);
  EXPECT_TRUE(read_job_files((dir.path() / "absent").string()).empty());
}

TEST(KeepBoards, KeepsTheWantedBoardsJobsInOrderAndNamesAMissingBoard) {
  std::vector<SubmittedJob> jobs{{"a", "", "", "default", "", 1, ""},
                                 {"b", "", "", "default", "", 2, ""},
                                 {"c", "", "", "default", "", 3, ""}};
  EXPECT_EQ(keep_boards(jobs, {"c", "a"}, "DIR"), "");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].id, 1);
  EXPECT_EQ(jobs[1].id, 3);
  EXPECT_EQ(keep_boards(jobs, {"a", "z"}, "DIR/submitted.json"),
            "no job of board 'z' in DIR/submitted.json");
  EXPECT_EQ(jobs.size(), 2u) << "nothing dropped when a board is missing";
}

TEST(SubmissionRecord, RoundTripsThroughJson) {
  Submission s{"http://127.0.0.1:8765/", "2026-12-05T03:07:27Z", {}};
  s.jobs.push_back({"cell", "ppc64", "slof", "default", "jobs/cell-default.yaml", 7,
                    "http://127.0.0.1:8765/scheduler/job/7"});
  const Submission back = submission_from_json(to_json(s), "test");
  EXPECT_EQ(to_json(back), to_json(s));
  EXPECT_EQ(back.jobs.at(0).id, 7);
}

TEST(SubmissionRecord, ABadRecordNamesItsFieldAndOrigin) {
  Submission s{"http://x/", "2026-12-05T03:07:27Z", {}};
  s.jobs.push_back({"cell", "ppc64", "slof", "default", "jobs/cell-default.yaml", 7, "u"});
  for (auto [pointer, value] :
       std::vector<std::pair<std::string, nlohmann::json>>{{"/jobs/0/id", "7"},
                                                           {"/jobs/0/id", 0},
                                                           {"/jobs/0/board", nullptr},
                                                           {"/server", 3},
                                                           {"/jobs", "none"}}) {
    nlohmann::json j = to_json(s);
    j[nlohmann::json::json_pointer(pointer)] = value;
    try {
      submission_from_json(j, "DIR/submitted.json");
      ADD_FAILURE() << pointer << " = " << value << " was taken";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("DIR/submitted.json"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace crossrig::rig::lava
