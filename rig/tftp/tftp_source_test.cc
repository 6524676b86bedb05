#include "rig/tftp/tftp_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace crossrig::rig::tftp {
namespace {

namespace fs = std::filesystem;

class TftpSource : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("tftp_source_test." + std::to_string(getpid()));
    fs::create_directories(base_ / "root/sub");
    std::ofstream(base_ / "root/sub/file") << "line\nx\r";
    std::ofstream(base_ / "secret") << "secret";
    fs::create_symlink("../secret", base_ / "root/up");
    fs::create_symlink(base_ / "secret", base_ / "root/abs");
    fs::create_symlink("sub/file", base_ / "root/inside");
    mkfifo((base_ / "root/fifo").c_str(), 0600);
    root_ = open((base_ / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  void TearDown() override {
    close(root_);
    fs::remove_all(base_);
  }
  SourceError error(const std::string& name) {
    auto r = Source::open(root_, name, false);
    EXPECT_TRUE(std::holds_alternative<SourceError>(r)) << name;
    return std::holds_alternative<SourceError>(r) ? std::get<SourceError>(r) : SourceError{};
  }

  fs::path base_;
  int root_ = -1;
};

TEST_F(TftpSource, ReadsRegularFilesAndSymlinksInsideTheRoot) {
  auto s = std::get<Source>(Source::open(root_, "inside", false));
  EXPECT_EQ(s.size(), 7u);
  std::vector<std::uint8_t> out(4);
  ASSERT_TRUE(s.read(1, out));
  EXPECT_EQ(std::string(out.begin(), out.end()), "ine\n");
  std::vector<std::uint8_t> beyond(10);
  EXPECT_FALSE(s.read(0, beyond));
}

TEST_F(TftpSource, NetasciiIsConverted) {
  auto s = std::get<Source>(Source::open(root_, "sub/file", true));
  std::vector<std::uint8_t> out(s.size());
  ASSERT_TRUE(s.read(0, out));
  EXPECT_EQ(std::string(out.begin(), out.end()), std::string("line\r\nx\r\0", 9));
}

TEST_F(TftpSource, SymlinksOutOfTheRootAreRefused) {
  EXPECT_EQ(error("up").code, ErrorCode::kAccessViolation);
  EXPECT_EQ(error("abs").code, ErrorCode::kAccessViolation);
  EXPECT_EQ(error("abs").message, "access denied: abs leads outside the root");
}

TEST_F(TftpSource, MissingFilesDirectoriesAndFifosAreNotFound) {
  EXPECT_EQ(error("nothing").code, ErrorCode::kFileNotFound);
  EXPECT_EQ(error("sub").message, "not a regular file: sub");
  EXPECT_EQ(error("fifo").message, "not a regular file: fifo");
}

}  // namespace
}  // namespace crossrig::rig::tftp
