#include "engine/restore.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "arch/arch.h"
#include "engine/ckpt_error.h"
#include "engine/synthetic_image.h"

namespace crossrig::engine {
namespace {

namespace fs = std::filesystem;

class RestoreRefusal : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("ckpt-restore-test-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_);
  }
  void TearDown() override { fs::remove_all(base_); }

  // The message restore refuses the image with; fails the test if it is not refused.
  std::string refusal(const arch::Arch& a, std::size_t page_size = 0) {
    const std::string dir = (base_ / std::string(a.name)).string();
    write_synthetic_image(dir, arch::Regs(a), page_size);
    RestoreOptions opts;
    opts.dir = dir;
    try {
      restore(opts);
    } catch (const CkptError& e) {
      EXPECT_EQ(e.kind(), CkptError::kBadImage) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "restore accepted an image of " << a.name;
    return "";
  }

  fs::path base_;
};

TEST_F(RestoreRefusal, ImageOfAnotherArchNamesBoth) {
  const std::string host(arch::native_arch().name);
  for (const arch::Arch* a : arch::all_arches()) {
    if (a == &arch::native_arch()) continue;
    std::string why = refusal(*a);
    EXPECT_NE(why.find("dumped on arch " + std::string(a->name) + " ("), std::string::npos) << why;
    EXPECT_NE(why.find("this host is " + host), std::string::npos) << why;
  }
}

TEST_F(RestoreRefusal, ImageOfOtherPagesNamesBothSizes) {
  const arch::Arch& host = arch::native_arch();
  const std::size_t other = host.page_size == 65536 ? 4096 : 65536;
  std::string why = refusal(host, other);
  EXPECT_NE(why.find("has " + std::to_string(other) + "-byte pages"), std::string::npos) << why;
  EXPECT_NE(why.find("uses " + std::to_string(::sysconf(_SC_PAGESIZE)) + "-byte pages"),
            std::string::npos)
      << why;
}

}  // namespace
}  // namespace crossrig::engine
