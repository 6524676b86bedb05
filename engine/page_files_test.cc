#include "engine/page_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/ckpt_error.h"
#include "engine/image.h"

namespace crossrig::engine {
namespace {

namespace fs = std::filesystem;

class PageFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("ckpt-page-files-test-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_);
    bytes_.resize(2 * kChunkBytes + 8192);
    for (std::size_t i = 0; i < bytes_.size(); ++i)
      bytes_[i] = static_cast<std::uint8_t>(i / 4096 + i);
    ImageWriter w((base_ / "img").string());
    PagesWriter p = w.open_pages("pages-1.img");
    p.append(bytes_);
    w.add_pages("pages-1.img", p);
    w.commit({});
    ImageReader r((base_ / "img").string());
    source_.path = r.pages_path("pages-1.img");
    source_.xxh3 = r.pages_xxh3("pages-1.img");
    source_.chunks = r.pages_chunks("pages-1.img");
  }
  void TearDown() override { fs::remove_all(base_); }
  void flip(std::uint64_t at) {
    std::fstream f(source_.path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(bytes_[at] ^ 0x80));
  }

  fs::path base_;
  std::vector<std::uint8_t> bytes_;
  PageSource source_;
};

TEST_F(PageFilesTest, GivesTheBytesOfAnyRange) {
  PageFiles files({source_}, false);
  const auto got = files.bytes(0, kChunkBytes - 4096, 8192);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), bytes_.begin() + kChunkBytes - 4096));
  EXPECT_EQ(files.bytes(0, 2 * kChunkBytes, 8192).back(), bytes_.back());
}

// Only the chunk that was damaged is refused: a lazy restore has served the others already.
TEST_F(PageFilesTest, RefusesTheBytesOfADamagedChunkOnly) {
  flip(kChunkBytes + 100);
  PageFiles files({source_}, false);
  EXPECT_NO_THROW(files.bytes(0, 0, kChunkBytes));
  EXPECT_NO_THROW(files.bytes(0, 2 * kChunkBytes, 4096));
  try {
    files.bytes(0, kChunkBytes + 4096, 4096);
    ADD_FAILURE() << "a damaged chunk was served";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kBadImage);
    EXPECT_NE(std::string(e.what()).find(source_.path), std::string::npos) << e.what();
  }
}

TEST_F(PageFilesTest, RefusesAFileThatGrewOrARangePastItsEnd) {
  {
    PageFiles files({source_}, true);
    EXPECT_THROW(files.bytes(0, bytes_.size() - 4096, 8192), CkptError);
  }
  std::ofstream(source_.path, std::ios::app | std::ios::binary) << std::string(kChunkBytes, 'x');
  EXPECT_THROW(PageFiles({source_}, false), CkptError);
}

}  // namespace
}  // namespace crossrig::engine
