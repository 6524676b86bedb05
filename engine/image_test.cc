#include "engine/image.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/hex.h"
#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

namespace fs = std::filesystem;

class ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("ckpt-image-test-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_);
    dir_ = (base_ / "img").string();
  }
  void TearDown() override { fs::remove_all(base_); }

  void write_sample() {
    ImageWriter w(dir_);
    w.write_json("tree.json", {{"root", 1}});
    PagesWriter p = w.open_pages("pages-1.img");
    std::vector<std::uint8_t> page(4096, 0xab);
    p.append(page);
    w.add_pages("pages-1.img", p);
    w.commit({{"arch", "x86_64"}});
  }
  void flip_byte(const std::string& name, std::size_t at) {
    std::fstream f(dir_ + "/" + name, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(c ^ 1));
  }
  CkptError::Kind open_error() {
    try {
      ImageReader r(dir_);
      r.json("tree.json");
    } catch (const CkptError& e) {
      return e.kind();
    }
    return CkptError::kSystem;
  }

  fs::path base_;
  std::string dir_;
};

TEST_F(ImageTest, WrittenImageValidatesAndListsChecksums) {
  write_sample();
  ImageReader r(dir_);
  EXPECT_EQ(r.inventory()["arch"], "x86_64");
  EXPECT_EQ(r.inventory()["format_version"], kImageFormatVersion);
  EXPECT_EQ(r.json("tree.json")["root"], 1);
  EXPECT_EQ(r.inventory()["files"]["pages-1.img"]["algo"], "xxh3");
  EXPECT_EQ(r.inventory()["files"]["tree.json"]["algo"], "sha256");
  EXPECT_FALSE(fs::exists(dir_ + ".tmp-" + std::to_string(::getpid())));
}

// Bytes that come through append() and through reserved ranges another writer filled, across
// chunk boundaries, are summed per chunk as the file holds them.
TEST_F(ImageTest, PageFilesListTheChecksumOfEachChunk) {
  std::vector<std::uint8_t> bytes(2 * kChunkBytes + kChunkBytes / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(i * 7 + i / 4096);
  const std::size_t head = kChunkBytes - 4096, middle = kChunkBytes + 8192;
  {
    ImageWriter w(dir_);
    PagesWriter p = w.open_pages("pages-1.img");
    p.append(std::span(bytes).first(head));
    const std::uint64_t at = p.reserve(middle);
    p.write_reserved(at, std::span(bytes).subspan(head, middle));
    p.hash_written(at + middle);
    p.append(std::span(bytes).subspan(head + middle));
    w.add_pages("pages-1.img", p);
    w.commit({{"arch", "x86_64"}});
  }
  ImageReader r(dir_);
  const std::vector<std::uint64_t> sums = r.pages_chunks("pages-1.img");
  EXPECT_EQ(sums.size(), 3U);
  EXPECT_EQ(sums, chunk_sums(bytes));
  EXPECT_EQ(sums[2], hash_of(std::span(bytes).subspan(2 * kChunkBytes)));
}

TEST_F(ImageTest, AFileOfExactlyOneChunkHasOneChecksum) {
  ImageWriter w(dir_);
  PagesWriter p = w.open_pages("pages-1.img");
  std::vector<std::uint8_t> bytes(kChunkBytes, 0x5a);
  p.append(bytes);
  EXPECT_EQ(p.finish().chunks, std::vector<std::uint64_t>{hash_of(bytes)});
}

TEST_F(ImageTest, AnInventoryWithoutAChecksumPerChunkIsRefused) {
  fs::create_directories(dir_);
  std::vector<std::uint8_t> bytes(kChunkBytes + 4096, 1);
  std::ofstream(dir_ + "/pages-1.img", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  FileSum sum{"xxh3", "0", bytes.size(), {hash_of(std::span(bytes).first(kChunkBytes))}};
  std::ofstream(dir_ + "/inventory.json") << make_inventory({}, {{"pages-1.img", sum}}).dump();
  ImageReader r(dir_);
  try {
    r.pages_chunks("pages-1.img");
    ADD_FAILURE() << "one checksum for two chunks was accepted";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kBadImage);
    EXPECT_NE(std::string(e.what()).find("pages-1.img"), std::string::npos) << e.what();
  }
}

TEST_F(ImageTest, AbandonedWriterLeavesNothing) {
  {
    ImageWriter w(dir_);
    w.write_json("tree.json", {{"root", 1}});
  }
  EXPECT_FALSE(fs::exists(dir_));
  EXPECT_TRUE(fs::is_empty(base_));
}

TEST_F(ImageTest, RefusesNonEmptyDirectory) {
  fs::create_directories(dir_);
  std::ofstream(dir_ + "/junk") << "x";
  EXPECT_THROW(ImageWriter w(dir_), CkptError);
}

TEST_F(ImageTest, CorruptedMetadataIsRefused) {
  write_sample();
  flip_byte("tree.json", 2);
  EXPECT_EQ(open_error(), CkptError::kBadImage);
}

TEST_F(ImageTest, CorruptedInventoryIsRefused) {
  write_sample();
  flip_byte("inventory.json", 20);
  EXPECT_EQ(open_error(), CkptError::kBadImage);
}

TEST_F(ImageTest, TruncatedPagesAreRefused) {
  write_sample();
  fs::resize_file(dir_ + "/pages-1.img", 100);
  EXPECT_EQ(open_error(), CkptError::kBadImage);
}

TEST(Inventory, OtherFormatVersionIsRefusedNamingTheOneRead) {
  nlohmann::json inv = make_inventory({{"arch", "x86_64"}}, {});
  inv["body"]["format_version"] = 1;
  inv["sha256"] = sha256_hex(as_bytes(inv["body"].dump()));
  try {
    verify_inventory(inv.dump());
    FAIL() << "a version 1 inventory was accepted";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kBadImage);
    EXPECT_NE(std::string(e.what()).find("format version 1 cannot be read"), std::string::npos)
        << e.what();
    EXPECT_NE(
        std::string(e.what()).find("reads format version " + std::to_string(kImageFormatVersion)),
        std::string::npos)
        << e.what();
  }
  EXPECT_EQ(verify_inventory(make_inventory({{"arch", "x86_64"}}, {}).dump())["format_version"],
            kImageFormatVersion);
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(sha256_hex(as_bytes("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace crossrig::engine
