#include "rig/matrix/results_tree.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "rig/matrix/sample_nights.h"

namespace crossrig::rig::matrix {
namespace {

namespace fs = std::filesystem;

class ResultsTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rig-results-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  void write_night(const Night& n) { write(root_ / n.date / "results.json", to_json(n).dump()); }
  std::string read(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path root_;
};

TEST(ResultsTreeNames, NightsAreDatesOnly) {
  EXPECT_TRUE(is_night_name("2026-12-03"));
  EXPECT_FALSE(is_night_name("2026-12-3"));
  EXPECT_FALSE(is_night_name("kernels"));
  EXPECT_FALSE(is_night_name(".2026-12-03.partial-12"));
}

TEST(ResultsTreeRetention, OnlyTheNewestNightsStay) {
  EXPECT_EQ(nights_beyond({"2026-12-03", "2026-11-30", "2026-12-01", "2026-12-02"}, 2),
            (std::vector<std::string>{"2026-11-30", "2026-12-01"}));
  EXPECT_TRUE(nights_beyond({"2026-12-03"}, 5).empty());
}

TEST(ResultsTreeRetention, KernelsNoKeptNightBootedGoFirst) {
  const std::vector<KeptKernel> kernels = {{"aaa-vmlinux", "2026-12-01"},
                                           {"bbb-vmlinux", ""},
                                           {"ccc-vmlinux", "2026-12-03"},
                                           {"ddd-vmlinux", "2026-12-02"}};
  EXPECT_EQ(kernels_beyond(kernels, 2), (std::vector<std::string>{"aaa-vmlinux", "bbb-vmlinux"}));
  EXPECT_TRUE(kernels_beyond(kernels, 4).empty());
  EXPECT_EQ(kept_kernel_name(std::string(64, 'f'), "/srv/k/bzImage"), "ffffffffffff-bzImage");
}

TEST_F(ResultsTree, EarlierNightsAreReadInOrderAndADamagedOneIsNamed) {
  const auto nights = testing::sample_nights();
  write_night(nights[1]);
  write_night(nights[0]);
  write_night(nights[2]);
  write(root_ / "2026-11-30" / "results.json", "{\"date\": ");
  write(root_ / "kernels" / "x" / "results.json", "{}");
  std::vector<std::string> warnings;
  const auto earlier = earlier_nights(root_, "2026-12-03", warnings);
  ASSERT_EQ(earlier.size(), 2u);
  EXPECT_EQ(earlier[0].date, "2026-12-01");
  EXPECT_EQ(earlier[1].date, "2026-12-02");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("2026-11-30/results.json"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("left out"), std::string::npos) << warnings[0];
}

TEST_F(ResultsTree, PublishingReplacesAnEarlierRunOfTheSameDateWhole) {
  write(root_ / "2026-12-03" / "old-only.txt", "old");
  const std::string partial = make_partial_dir(root_, "2026-12-03");
  write_file_atomically(partial + "/results.json", "new");
  EXPECT_EQ(publish_night(root_, "2026-12-03", partial), (root_ / "2026-12-03").string());
  EXPECT_EQ(read(root_ / "2026-12-03" / "results.json"), "new");
  EXPECT_FALSE(fs::exists(root_ / "2026-12-03" / "old-only.txt"));
  EXPECT_FALSE(fs::exists(partial));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(root_))
    left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"2026-12-03"}) << "nothing half-made stays behind";
}

TEST_F(ResultsTree, AbandonedPartialNightsGoButARunningOnesStays) {
  // A process that has exited: its pid is free (reaped) for this check.
  const pid_t gone = fork();
  if (gone == 0) _exit(0);
  ASSERT_GT(gone, 0);
  waitpid(gone, nullptr, 0);
  const fs::path dead = root_ / (".2026-12-02.partial-" + std::to_string(gone));
  const fs::path alive = root_ / (".2026-12-03.partial-" + std::to_string(getppid()));
  fs::create_directories(dead / "qemu-x86_64");
  fs::create_directories(alive);
  remove_abandoned(root_);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(alive));
}

TEST_F(ResultsTree, NightlyKeepsBootedKernelsAndPrunesBeyondTheLimits) {
  auto nights = testing::sample_nights();
  // Each night boots a new x86 kernel; the files live outside the results tree.
  for (std::size_t i = 0; i < nights.size(); ++i) {
    const fs::path k = root_ / "src" / std::to_string(i) / "bzImage";
    write(k, "kernel " + std::to_string(i));
    for (auto& b : nights[i].boards) {
      b.kernel = b.board == "qemu-x86_64" ? k.string() : "";
      b.kernel_sha256 = b.kernel.empty() ? "" : file_sha256(k);
    }
    write_night(nights[i]);
    const Pruned p = keep_and_prune(root_, nights[i], 2, 2);
    if (i == 2) {
      EXPECT_EQ(p.nights, std::vector<std::string>{"2026-12-01"});
      ASSERT_EQ(p.kernels.size(), 1u);
      EXPECT_EQ(p.kernels[0],
                "qemu-x86_64/" + kept_kernel_name(nights[0].boards[0].kernel_sha256, "bzImage"));
    }
  }
  EXPECT_FALSE(fs::exists(root_ / "2026-12-01"));
  EXPECT_TRUE(fs::exists(root_ / "2026-12-02"));
  EXPECT_TRUE(fs::exists(root_ / "2026-12-03"));
  const fs::path kept = root_ / "kernels" / "qemu-x86_64" /
                        kept_kernel_name(nights[2].boards[0].kernel_sha256, "bzImage");
  EXPECT_EQ(read(kept), "kernel 2");
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "kernels" / "qemu-x86_64"),
                          fs::directory_iterator()),
            2);
}

TEST(FileSha256, KnownDigest) {
  char tmpl[] = "/tmp/rig-sha-test.XXXXXX";
  const int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "abc", 3), 3);
  close(fd);
  EXPECT_EQ(file_sha256(tmpl), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  unlink(tmpl);
  EXPECT_THROW(file_sha256(tmpl), std::runtime_error);
}

}  // namespace
}  // namespace crossrig::rig::matrix
