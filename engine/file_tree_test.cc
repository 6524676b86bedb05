#include "engine/file_tree.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

constexpr off_t kTailAt = 8 << 20;

void write_file(const std::string& path, const std::string& text, off_t at = 0) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd) << path;
  ASSERT_EQ(::pwrite(fd.get(), text.data(), text.size(), at), static_cast<ssize_t>(text.size()));
}

std::string read_text(const std::string& path, std::size_t len, off_t at = 0) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string out(len, '\0');
  if (!fd || ::pread(fd.get(), out.data(), len, at) != static_cast<ssize_t>(len)) return "";
  return out;
}

void set_time(const std::string& path, std::int64_t sec) {
  const timespec t[2] = {{sec, 111}, {sec + 1, 222}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

class FileTreeTest : public ::testing::Test {
 protected:
  // The tree at dir, its content in data_.
  std::vector<FileNodeImage> read(const std::string& dir) {
    const std::string file = (image_.path() / "data.img").string();
    PagesWriter writer(UniqueFd(::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)),
                       "data.img", file);
    UniqueFd top(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto nodes = read_file_tree(top.get(), "the test tree", writer);
    writer.finish();
    data_.resize(writer.size());
    UniqueFd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(::pread(in.get(), data_.data(), data_.size(), 0), static_cast<ssize_t>(data_.size()));
    return nodes;
  }

  // A tree of every kind of file, set-id bits, owners, times, a hard link and a hole.
  void make_source() {
    const std::string s = source_.path().string();
    ASSERT_EQ(::mkdir((s + "/sub").c_str(), 0750), 0);
    ASSERT_EQ(::mkdir((s + "/sub/deeper").c_str(), 0700), 0);
    write_file(s + "/sub/deeper/note", "deep");
    write_file(s + "/sparse", "head");
    write_file(s + "/sparse", "tail", kTailAt);
    write_file(s + "/setuid", "#!/bin/true\n");
    ASSERT_EQ(::chown((s + "/setuid").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::chmod((s + "/setuid").c_str(), 04755), 0);
    ASSERT_EQ(::link((s + "/setuid").c_str(), (s + "/sub/hardlink").c_str()), 0);
    ASSERT_EQ(::symlink("../sparse", (s + "/sub/link").c_str()), 0);
    ASSERT_EQ(::mkfifo((s + "/fifo").c_str(), 0620), 0);
    ASSERT_EQ(::mknod((s + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    for (const char* p : {"/sparse", "/setuid", "/sub/link", "/fifo", "/null", "/sub/deeper/note",
                          "/sub/deeper", "/sub", ""})
      set_time(s + p, 1000000000);
  }

  test_support::TempDir source_{"crossrig-tree-src"}, target_{"crossrig-tree-dst"},
      image_{"crossrig-tree-img"};
  std::vector<std::uint8_t> data_;
};

TEST_F(FileTreeTest, WrittenTreeReadsBackTheSame) {
  make_source();
  const auto nodes = read(source_.path().string());
  ASSERT_NO_THROW(check_file_tree(nodes, data_.size(), "the test tree"));
  UniqueFd target(::open(target_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  const auto data = data_;
  write_file_tree(target.get(), nodes, data, "the test tree");
  const auto again = read(target_.path().string());
  ASSERT_EQ(again.size(), nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const FileNodeImage &a = nodes[i], &b = again[i];
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.type, b.type) << a.path;
    EXPECT_EQ(a.mode, b.mode) << a.path;
    EXPECT_EQ(a.uid, b.uid) << a.path;
    EXPECT_EQ(a.gid, b.gid) << a.path;
    EXPECT_EQ(a.mtime_sec, b.mtime_sec) << a.path;
    EXPECT_EQ(a.mtime_nsec, b.mtime_nsec) << a.path;
    EXPECT_EQ(a.atime_sec, b.atime_sec) << a.path;
    EXPECT_EQ(a.size, b.size) << a.path;
    EXPECT_EQ(a.target, b.target) << a.path;
    EXPECT_EQ(a.rdev, b.rdev) << a.path;
    EXPECT_EQ(a.link, b.link) << a.path;
    EXPECT_EQ(a.data.size(), b.data.size()) << a.path;
  }
  const std::string t = target_.path().string();
  EXPECT_EQ(read_text(t + "/sparse", 4), "head");
  EXPECT_EQ(read_text(t + "/sparse", 4, kTailAt), "tail");
  EXPECT_EQ(read_text(t + "/sub/deeper/note", 4), "deep");
  struct stat sparse {
  }, setuid{}, hardlink{};
  ASSERT_EQ(::stat((t + "/sparse").c_str(), &sparse), 0);
  EXPECT_LT(sparse.st_blocks * 512, kTailAt) << "the hole was written out";
  ASSERT_EQ(::stat((t + "/setuid").c_str(), &setuid), 0);
  ASSERT_EQ(::stat((t + "/sub/hardlink").c_str(), &hardlink), 0);
  EXPECT_EQ(setuid.st_ino, hardlink.st_ino);
  EXPECT_EQ(setuid.st_mode & 07777, 04755u);
}

TEST_F(FileTreeTest, ListingSkipsWhatIsNotTheTreesOwn) {
  make_source();
  const auto nodes = read(source_.path().string());
  ASSERT_FALSE(nodes.empty());
  EXPECT_EQ(nodes.front().path, "");
  // Pre-order and sorted: a directory's names follow it.
  std::vector<std::string> paths;
  for (const FileNodeImage& n : nodes)
    paths.push_back(n.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"", "fifo", "null", "setuid", "sparse", "sub", "sub/deeper",
                                      "sub/deeper/note", "sub/hardlink", "sub/link"}));
  EXPECT_EQ(nodes[8].link, 3);
  EXPECT_EQ(nodes[4].data.size(), 2u);
}

TEST(CheckFileTree, RefusesWhatWouldWriteOutsideOrOutOfOrder) {
  auto tree = [](std::vector<FileNodeImage> below) {
    FileNodeImage top;
    top.type = "dir";
    below.insert(below.begin(), top);
    return below;
  };
  auto node = [](const std::string& path, const std::string& type) {
    FileNodeImage n;
    n.path = path;
    n.type = type;
    return n;
  };
  EXPECT_NO_THROW(check_file_tree(tree({node("a", "dir"), node("a/b", "file")}), 0, "t"));
  EXPECT_THROW(check_file_tree(tree({node("../a", "file")}), 0, "t"), CkptError);
  EXPECT_THROW(check_file_tree(tree({node("a//b", "file")}), 0, "t"), CkptError);
  EXPECT_THROW(check_file_tree(tree({node("a/b", "file"), node("a", "dir")}), 0, "t"), CkptError);
  EXPECT_THROW(
      check_file_tree(tree({node("a", "dir"), node("b", "file"), node("a/c", "file")}), 0, "t"),
      CkptError);
  EXPECT_THROW(check_file_tree(tree({node("a", "door")}), 0, "t"), CkptError);
  EXPECT_THROW(check_file_tree({node("a", "file")}, 0, "t"), CkptError);
  FileNodeImage big = node("a", "file");
  big.size = 10;
  big.data.push_back({0, 10, 0});
  EXPECT_NO_THROW(check_file_tree(tree({big}), 10, "t"));
  EXPECT_THROW(check_file_tree(tree({big}), 9, "t"), CkptError);
  big.size = 9;
  EXPECT_THROW(check_file_tree(tree({big}), 10, "t"), CkptError);
  FileNodeImage link = node("b", "file");
  link.link = 2;
  EXPECT_THROW(check_file_tree(tree({node("a", "file"), link}), 0, "t"), CkptError);
  link.link = 1;
  EXPECT_NO_THROW(check_file_tree(tree({node("a", "file"), link}), 0, "t"));
  link.type = "fifo";
  EXPECT_THROW(check_file_tree(tree({node("a", "file"), link}), 0, "t"), CkptError);
}

}  // namespace
}  // namespace crossrig::engine
