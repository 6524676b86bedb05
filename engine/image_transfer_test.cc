#include "engine/image_transfer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "engine/ckpt_error.h"
#include "engine/image.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;

std::vector<std::uint8_t> json_bytes(const nlohmann::json& j) {
  const std::string s = j.dump();
  return {s.begin(), s.end()};
}

std::vector<std::uint8_t> file_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

TEST(TransferFrames, RoundTripAndLimits) {
  const std::vector<std::uint8_t> payload = {1, 2, 3};
  const auto frame = encode_message(MessageType::kData, payload);
  ASSERT_EQ(frame.size(), kHeaderSize + 3);
  const auto [type, len] =
      decode_header(std::span<const std::uint8_t, kHeaderSize>(frame.data(), kHeaderSize));
  EXPECT_EQ(type, MessageType::kData);
  EXPECT_EQ(len, 3u);
  std::array<std::uint8_t, kHeaderSize> unknown = {42, 0, 0, 0, 0};
  EXPECT_THROW(decode_header(unknown), ProtocolError);
  std::array<std::uint8_t, kHeaderSize> huge = {4, 0xff, 0xff, 0xff, 0xff};
  try {
    decode_header(huge);
    ADD_FAILURE() << "a 4 GiB frame was accepted";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("more than the limit"), std::string::npos) << e.what();
  }
}

TEST(TransferFrames, PageRequestsRoundTripAndMustBeWhole) {
  const PageRequest r{4242, 0x7fffdeadb000, 256};
  const auto payload = encode_page_request(r);
  EXPECT_EQ(parse_page_request(payload), r);
  EXPECT_THROW(parse_page_request(std::span(payload).first(23)), ProtocolError);
}

TEST(TransferFrames, NamesMustBeOnePlainComponent) {
  for (const char* bad : {"", ".", "..", ".hidden", "a/b", "/abs", "../up"}) {
    EXPECT_THROW(parse_begin(json_bytes({{"name", bad}, {"format_version", 9}})), ProtocolError)
        << bad;
    EXPECT_THROW(parse_file(json_bytes({{"name", bad}, {"algo", "xxh3"}})), ProtocolError) << bad;
  }
  EXPECT_EQ(parse_begin(json_bytes({{"name", "img-1"}, {"format_version", 9}})).name, "img-1");
  EXPECT_THROW(parse_file(json_bytes({{"name", "inventory.json"}, {"algo", "sha256"}})),
               ProtocolError);
  EXPECT_THROW(parse_file(json_bytes({{"name", "a.img"}, {"algo", "md5"}})), ProtocolError);
  EXPECT_THROW(parse_begin(as_bytes("{\"name\":")), ProtocolError);
  EXPECT_THROW(parse_begin(json_bytes({{"name", 3}})), ProtocolError);
  EXPECT_THROW(parse_hello(json_bytes(nlohmann::json::array())), ProtocolError);
}

// An image written locally, and the messages a client sends for it.
class ReceiverTest : public ::testing::Test {
 protected:
  TempDir tmp{"receiver-test"};
  fs::path source = tmp.path() / "source";
  fs::path root = tmp.path() / "root";

  void SetUp() override {
    fs::create_directory(root);
    ImageWriter w(source.string());
    w.write_json("tree.json", {{"root", 1}});
    PagesWriter p = w.open_pages("pages-1.img");
    std::vector<std::uint8_t> bytes(3 * kDataChunk / 2);
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<std::uint8_t>(i * 7);
    p.append(bytes);
    w.add_pages("pages-1.img", p);
    w.commit({{"arch", "x86_64"}});
  }

  std::vector<Message> messages(const std::string& name) const {
    std::vector<Message> out = {
        {MessageType::kHello, json_bytes({{"protocol", kTransferProtocol}})},
        {MessageType::kBegin,
         json_bytes({{"name", name}, {"format_version", kImageFormatVersion}})}};
    for (const char* f : {"tree.json", "pages-1.img"}) {
      out.push_back(
          {MessageType::kFile,
           json_bytes(
               {{"name", f}, {"algo", fs::path(f).extension() == ".json" ? "sha256" : "xxh3"}})});
      const auto bytes = file_bytes(source / f);
      for (std::size_t at = 0; at < bytes.size(); at += kDataChunk) {
        const std::size_t n = std::min(kDataChunk, bytes.size() - at);
        out.push_back({MessageType::kData,
                       {bytes.begin() + static_cast<std::ptrdiff_t>(at),
                        bytes.begin() + static_cast<std::ptrdiff_t>(at + n)}});
      }
      out.push_back({MessageType::kFileEnd, {}});
    }
    out.push_back({MessageType::kEnd, file_bytes(source / "inventory.json")});
    return out;
  }

  bool root_is_empty() const { return fs::is_empty(root); }
};

TEST_F(ReceiverTest, WholeImageIsCommittedAsSent) {
  ImageReceiver r(root.string());
  std::vector<MessageType> replies;
  for (const Message& m : messages("img")) {
    if (auto reply = r.on_message(m)) replies.push_back(reply->type);
  }
  EXPECT_TRUE(r.committed());
  EXPECT_EQ(replies, (std::vector{MessageType::kReady, MessageType::kReady, MessageType::kDone}));
  ImageReader image((root / "img").string());
  for (const char* f : {"tree.json", "pages-1.img", "inventory.json"})
    EXPECT_EQ(file_bytes(root / "img" / f), file_bytes(source / f)) << f;
  EXPECT_EQ(r.files(), 2u);
}

TEST_F(ReceiverTest, DamagedFileIsRefusedAndNothingKept) {
  {
    ImageReceiver r(root.string());
    auto ms = messages("img");
    ms[6].payload[100] ^= 1;  // The first DATA of pages-1.img.
    try {
      for (const Message& m : ms)
        r.on_message(m);
      ADD_FAILURE() << "a damaged file was committed";
    } catch (const CkptError& e) {
      EXPECT_NE(std::string(e.what()).find("pages-1.img arrived damaged"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_TRUE(root_is_empty());
}

TEST_F(ReceiverTest, MissingFileIsRefused) {
  {
    ImageReceiver r(root.string());
    auto ms = messages("img");
    // Drops tree.json's FILE, DATA and FILE_END.
    ms.erase(ms.begin() + 2, ms.begin() + 5);
    EXPECT_THROW(
        {
          for (const Message& m : ms)
            r.on_message(m);
        },
        CkptError);
  }
  EXPECT_TRUE(root_is_empty());
}

TEST_F(ReceiverTest, MessagesOutOfOrderAreRefused) {
  const auto ms = messages("img");
  {
    ImageReceiver r(root.string());
    EXPECT_THROW(r.on_message(ms[1]), ProtocolError);  // BEGIN before HELLO.
  }
  {
    ImageReceiver r(root.string());
    r.on_message(ms[0]);
    r.on_message(ms[1]);
    EXPECT_THROW(r.on_message(ms[3]), ProtocolError);  // DATA outside a file.
  }
  {
    ImageReceiver r(root.string());
    r.on_message(ms[0]);
    EXPECT_THROW(r.on_message({MessageType::kHello, json_bytes({{"protocol", 99}})}),
                 ProtocolError);
  }
  EXPECT_TRUE(root_is_empty());
}

TEST_F(ReceiverTest, TruncatedTransferLeavesNothing) {
  const auto ms = messages("img");
  {
    ImageReceiver r(root.string());
    for (std::size_t i = 0; i + 1 < ms.size(); ++i)
      r.on_message(ms[i]);
    EXPECT_FALSE(fs::is_empty(root)) << "the partial image should be on disk meanwhile";
  }
  EXPECT_TRUE(root_is_empty());
}

TEST_F(ReceiverTest, ExistingImageIsNotOverwritten) {
  fs::create_directory(root / "img");
  ImageReceiver r(root.string());
  const auto ms = messages("img");
  r.on_message(ms[0]);
  try {
    r.on_message(ms[1]);
    ADD_FAILURE() << "an existing image was begun again";
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
}

TEST_F(ReceiverTest, ImagesFollowOneAnotherOnOneConnection) {
  ImageReceiver r(root.string());
  const auto first = messages("pre-1");
  for (const Message& m : first)
    r.on_message(m);
  ASSERT_TRUE(r.committed());
  EXPECT_FALSE(r.between_images());
  EXPECT_THROW(r.on_message(first[1]), ProtocolError) << "BEGIN before next_image()";
  r.next_image();
  EXPECT_TRUE(r.between_images());
  // The second image, without a second HELLO.
  const auto second = messages("dump");
  for (std::size_t i = 1; i < second.size(); ++i)
    r.on_message(second[i]);
  ASSERT_TRUE(r.committed());
  EXPECT_EQ(r.path(), (root / "dump").string());
  EXPECT_EQ(r.files(), 2u) << "counts the last image's files only";
  for (const char* image : {"pre-1", "dump"})
    EXPECT_EQ(file_bytes(root / image / "pages-1.img"), file_bytes(source / "pages-1.img"))
        << image;
}

TEST_F(ReceiverTest, MigrationMessagesAreRefusedInsideAnImage) {
  ImageReceiver r(root.string());
  const auto ms = messages("img");
  r.on_message(ms[0]);
  r.on_message(ms[1]);
  EXPECT_THROW(r.on_message({MessageType::kRestore, json_bytes({{"image", "img"}})}),
               ProtocolError);
  EXPECT_THROW(r.on_message({MessageType::kCommit, {}}), ProtocolError);
}

}  // namespace
}  // namespace crossrig::engine
