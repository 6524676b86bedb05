#include "engine/show.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "engine/ckpt_error.h"
#include "engine/synthetic_image.h"

namespace crossrig::engine {
namespace {

namespace fs = std::filesystem;

class ShowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("ckpt-show-test-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_);
  }
  void TearDown() override { fs::remove_all(base_); }
  std::string dir(const std::string& name) const { return (base_ / name).string(); }

  fs::path base_;
};

TEST_F(ShowTest, BigEndianPpc64ImageDecodesWithItsTable) {
  arch::Regs regs(*arch::find_arch("ppc64"));
  regs.set("nip", 0x10000104);
  regs.set("gpr1", 0x7fffffffe000);
  regs.set("gpr13", 0x7fffb7ff7010);
  regs.set("trap", 0xc00);
  write_synthetic_image(dir("ppc64"), regs);
  ImageReader image(dir("ppc64"));
  nlohmann::json doc = image_to_json(image);
  const auto& core = doc["processes"]["4242"]["cores"][0];
  EXPECT_EQ(core["decoded"]["pc"], "0x0000000010000104");
  EXPECT_EQ(core["decoded"]["sp"], "0x00007fffffffe000");
  EXPECT_EQ(core["decoded"]["tls"], "0x00007fffb7ff7010");
  std::ostringstream out;
  print_image(doc, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("arch ppc64 (big-endian, 65536 B pages)"), std::string::npos) << text;
  EXPECT_NE(text.find("pc 0x0000000010000104 sp 0x00007fffffffe000"), std::string::npos) << text;
  // Registers come in pt_regs order: gpr0 first, result last, nip after gpr31.
  EXPECT_LT(text.find("gpr0 "), text.find("gpr31 "));
  EXPECT_LT(text.find("gpr31 "), text.find("nip "));
  EXPECT_LT(text.find("nip "), text.find("result "));
  EXPECT_NE(text.find("trap 0x0000000000000c00"), std::string::npos) << text;
}

TEST_F(ShowTest, S390xThreadPointerJoinsTwoAccessRegisters) {
  arch::Regs regs(*arch::find_arch("s390x"));
  regs.set("psw_addr", 0x2aa0000109a);
  regs.set("gpr15", 0x3fffffff0a8);
  regs.set("acr0", 0x3ff);
  regs.set("acr1", 0x8a0b6f00);
  write_synthetic_image(dir("s390x"), regs);
  nlohmann::json doc = image_to_json(ImageReader(dir("s390x")));
  const auto& core = doc["processes"]["4242"]["cores"][0];
  EXPECT_EQ(core["decoded"]["pc"], "0x000002aa0000109a");
  EXPECT_EQ(core["decoded"]["tls"], "0x000003ff8a0b6f00");
  EXPECT_EQ(core["regs"]["acr1"], "0x8a0b6f00");
  std::ostringstream out;
  print_image(doc, out);
  EXPECT_NE(out.str().find("arch s390x (big-endian, 4096 B pages)"), std::string::npos);
  EXPECT_NE(out.str().find("thread pointer 0x000003ff8a0b6f00"), std::string::npos) << out.str();
}

TEST_F(ShowTest, EveryArchsImageDecodesOnThisHost) {
  for (const arch::Arch* a : arch::all_arches()) {
    arch::Regs regs(*a);
    regs.set(a->pc, 0x4000);
    write_synthetic_image(dir(std::string(a->name)), regs);
    nlohmann::json doc = image_to_json(ImageReader(dir(std::string(a->name))));
    EXPECT_EQ(doc["processes"]["4242"]["cores"][0]["decoded"]["pc"], "0x0000000000004000")
        << a->name;
  }
}

TEST_F(ShowTest, EndiannessContradictingTheArchIsABadImage) {
  EXPECT_EQ(image_arch({{"arch", "ppc64"}, {"endianness", "big"}}), arch::find_arch("ppc64"));
  EXPECT_EQ(image_arch({{"arch", "vax"}}), nullptr);
  try {
    image_arch({{"arch", "ppc64"}, {"endianness", "little"}});
    FAIL() << "a little-endian ppc64 image was accepted";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kBadImage);
    EXPECT_NE(std::string(e.what()).find("ppc64 is big-endian"), std::string::npos) << e.what();
  }
}

TEST_F(ShowTest, RegistersOfAnotherArchAreABadImage) {
  arch::Regs regs(*arch::find_arch("x86_64"));
  write_synthetic_image(dir("x86"), regs);
  nlohmann::json core = ImageReader(dir("x86")).json("core-4242.json");
  EXPECT_THROW(decode_core(*arch::find_arch("aarch64"), core), CkptError);
}

TEST_F(ShowTest, ListsWhatTheTreesOwnNamespacesHold) {
  nlohmann::json doc = {
      {"inventory", {{"arch", "x86_64"}, {"endianness", "little"}}},
      {"tree",
       {{"namespaces",
         {{"ipc", true},
          {"net", true},
          {"loopback_up", true},
          {"pid", true},
          {"mnt", true},
          {"pids", {{4242, 1}, {4243, 2}}}}},
        {"processes", nlohmann::json::array()}}},
      {"processes", nlohmann::json::object()},
      {"mounts",
       {{"mounts",
         {{{"mountpoint", "/"}, {"how", "inherited"}, {"fstype", "ext4"}},
          {{"mountpoint", "/tmp"},
           {"how", "new"},
           {"fstype", "tmpfs"},
           {"propagation", "private"},
           {"files", {nlohmann::json::object(), nlohmann::json::object()}}},
          {{"mountpoint", "/view"},
           {"how", "bind"},
           {"fstype", "tmpfs"},
           {"from", "/tmp/sub"},
           {"from_tree", true},
           {"propagation", "shared"}}}}}},
      {"ipc",
       {{"shm",
         {{{"id", 32769},
           {"perm", {{"key", -2}, {"mode", 0640}}},
           {"size", 12288},
           {"removed", true}}}},
        {"sem", {{{"id", 0}, {"perm", {{"key", 0}, {"mode", 0600}}}, {"values", {5, 0}}}}},
        {"msg",
         {{{"id", 1}, {"perm", {{"key", 0x5eed}, {"mode", 0600}}}, {"messages", {1, 2}}}}}}}};
  std::ostringstream out;
  print_image(doc, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("shm segment 32769 key 0xfffffffe mode 640 12288 bytes removed\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("semaphore set 0 key 0x0 mode 600 values [5,0]"), std::string::npos) << text;
  EXPECT_NE(text.find("message queue 1 key 0x5eed mode 600 2 messages"), std::string::npos) << text;
  EXPECT_NE(text.find("own mount namespace: 1 mounts of ckpt's kept, 2 made\n"
                      "  /tmp new tmpfs, 2 files, private\n"
                      "  /view bind tmpfs from /tmp/sub (the tree's), shared\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("own PID namespace: 4242=1 4243=2"), std::string::npos) << text;
}

TEST_F(ShowTest, APreDumpListsItsPagesAndItsParent) {
  nlohmann::json doc = {
      {"inventory",
       {{"arch", "x86_64"},
        {"endianness", "little"},
        {"kind", "pre-dump"},
        {"track", "pagemap-scan"},
        {"parent", "/srv/images/1"}}},
      {"pre_dumped",
       {{"4242",
         {{{"vaddr", 4096}, {"npages", 3}, {"offset", 0}, {"in_parent", false}},
          {{"vaddr", 65536}, {"npages", 5}, {"offset", 0}, {"in_parent", true}}}}}}};
  std::ostringstream out;
  print_image(doc, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("follows the pre-dump /srv/images/1 (written pages found by pagemap-scan)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("process 4242: 3 pages stored, 5 in the parent image"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace crossrig::engine
