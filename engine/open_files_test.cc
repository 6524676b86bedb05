#include "engine/open_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/ckpt_error.h"
#include "engine/task_info.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

using test_support::TempDir;

FilesImage pipe_with(std::uint64_t offset, std::uint64_t length) {
  FilesImage f;
  f.files.push_back({"pipe", "pipe:[1]", O_RDONLY | O_NONBLOCK, 0, 0, -1, false, {}, -1});
  f.files.push_back({"pipe", "pipe:[1]", O_WRONLY, 0, 0, -1, false, {}, -1});
  f.pipes.push_back({65536, offset, length});
  return f;
}

TaskImage task_with_fd(int file) {
  TaskImage t;
  t.pid = 7;
  t.fds.push_back({3, file, false, {}});
  return t;
}

int bad_image_kind(const FilesImage& f, const std::vector<TaskImage>& tasks, std::size_t data) {
  try {
    check_files(f, tasks, data);
  } catch (const CkptError& e) {
    return e.kind();
  }
  return 0;
}

TEST(CheckFiles, AcceptsAConsistentImage) {
  EXPECT_EQ(bad_image_kind(pipe_with(0, 10), {task_with_fd(1)}, 10), 0);
}

TEST(CheckFiles, RefusesReferencesOutOfRange) {
  EXPECT_EQ(bad_image_kind(pipe_with(0, 10), {task_with_fd(2)}, 10), CkptError::kBadImage);
  EXPECT_EQ(bad_image_kind(pipe_with(0, 10), {task_with_fd(-1)}, 10), CkptError::kBadImage);
  EXPECT_EQ(bad_image_kind(pipe_with(5, 10), {}, 10), CkptError::kBadImage);
  EXPECT_EQ(bad_image_kind(pipe_with(~0ULL, 2), {}, 10), CkptError::kBadImage);
  FilesImage over = pipe_with(0, 10);
  over.pipes[0].size = 4;
  EXPECT_EQ(bad_image_kind(over, {}, 10), CkptError::kBadImage);
  FilesImage no_buffer = pipe_with(0, 0);
  no_buffer.files[0].pipe = 3;
  EXPECT_EQ(bad_image_kind(no_buffer, {}, 0), CkptError::kBadImage);
  FilesImage file_with_buffer = pipe_with(0, 0);
  file_with_buffer.files[0].kind = "file";
  EXPECT_EQ(bad_image_kind(file_with_buffer, {}, 0), CkptError::kBadImage);
  FilesImage unlinked = pipe_with(0, 0);
  unlinked.files.push_back({"unlinked", "/tmp/x", O_RDONLY, 0, -1, 0, false, {}, -1});
  EXPECT_EQ(bad_image_kind(unlinked, {}, 8), CkptError::kBadImage) << "no content entry 0";
  unlinked.unlinked.push_back({"/tmp/x", "", 0, 0600, 0, 0, 4, 8});
  EXPECT_EQ(bad_image_kind(unlinked, {}, 8), CkptError::kBadImage) << "content past the end";
  unlinked.unlinked[0].offset = 0;
  EXPECT_EQ(bad_image_kind(unlinked, {}, 8), 0);
}

TEST(OpenFiles, RefillsAPipeAndSharesItsEnds) {
  const std::string data = "bytes in flight";
  FilesImage img = pipe_with(0, data.size());
  OpenFiles files(img, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()),
                  "");
  EXPECT_TRUE(::fcntl(files.fd(0), F_GETFL) & O_NONBLOCK);
  EXPECT_FALSE(::fcntl(files.fd(1), F_GETFL) & O_NONBLOCK);
  char buf[64] = {};
  ASSERT_EQ(::read(files.fd(0), buf, sizeof buf), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(std::string(buf, data.size()), data);
  ASSERT_EQ(::write(files.fd(1), "x", 1), 1);
  EXPECT_EQ(::read(files.fd(0), buf, sizeof buf), 1);
}

TEST(OpenFiles, OpensAFileAtItsOffsetWithItsFlags) {
  TempDir dir("open-files-test");
  const std::string path = (dir.path() / "f").string();
  std::ofstream(path) << "0123456789";
  FilesImage img;
  img.files.push_back({"file", path, O_WRONLY | O_APPEND, 4, -1, -1, false, {}, -1});
  OpenFiles files(img, {}, "");
  EXPECT_EQ(::lseek(files.fd(0), 0, SEEK_CUR), 4);
  EXPECT_EQ(::fcntl(files.fd(0), F_GETFL) & (O_ACCMODE | O_APPEND), O_WRONLY | O_APPEND);
}

TEST(OpenFiles, MakesAnUnlinkedFileAgainNamelessWithItsContent) {
  TempDir dir("open-files-test");
  const std::string data = "content of a file nobody can name";
  FilesImage img;
  img.files.push_back(
      {"unlinked", (dir.path() / "gone").string(), O_RDWR, 3, -1, 0, false, {}, -1});
  img.files.push_back(
      {"unlinked", (dir.path() / "gone").string(), O_RDONLY, 0, -1, 0, false, {}, -1});
  img.unlinked.push_back(
      {(dir.path() / "gone").string(), "", 0, 0604, ::getuid(), ::getgid(), 0, data.size()});
  OpenFiles files(img, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()),
                  "");
  struct stat st {};
  ASSERT_EQ(::fstat(files.fd(1), &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0604u);
  EXPECT_EQ(::lseek(files.fd(0), 0, SEEK_CUR), 3);
  char buf[64] = {};
  ASSERT_EQ(::read(files.fd(1), buf, sizeof buf), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(std::string(buf, data.size()), data);
  ASSERT_EQ(::pwrite(files.fd(0), "X", 1, 0), 1);
  ASSERT_EQ(::pread(files.fd(1), buf, 1, 0), 1);
  EXPECT_EQ(buf[0], 'X') << "both descriptions must be on one inode";
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(OpenFiles, MakesAMemfdAgainWithItsNameContentAndSeals) {
  const std::string data = "memfd bytes";
  FilesImage img;
  img.files.push_back({"unlinked", "/memfd:ckpt-test", O_RDWR, 0, -1, 0, false, {}, -1});
  img.unlinked.push_back({"/memfd:ckpt-test", "ckpt-test", F_SEAL_GROW | F_SEAL_SHRINK, 0600,
                          ::getuid(), ::getgid(), 0, data.size()});
  OpenFiles files(img, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()),
                  "");
  EXPECT_EQ(read_link("/proc/self/fd/" + std::to_string(files.fd(0))),
            "/memfd:ckpt-test (deleted)");
  EXPECT_EQ(::fcntl(files.inode_fd(0), F_GET_SEALS), 0) << "sealed before its mappings exist";
  files.seal();
  EXPECT_EQ(::fcntl(files.fd(0), F_GET_SEALS), F_SEAL_GROW | F_SEAL_SHRINK);
  char buf[32] = {};
  ASSERT_EQ(::pread(files.fd(0), buf, sizeof buf, 0), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(std::string(buf, data.size()), data);
  EXPECT_NE(::ftruncate(files.fd(0), 1), 0) << "F_SEAL_SHRINK holds again";
}

TEST(OpenFiles, SendsAPipeInFlightWithItsBytesAgain) {
  const std::string data = "in the pipex";
  FilesImage img = pipe_with(0, data.size() - 1);
  // A socketpair whose end 1 has "x" queued with the pipe's read end in flight.
  for (int i : {0, 1})
    img.files.push_back({"unix", "socket:[1]", O_RDWR, 0, -1, -1, false, {}, -1, i});
  img.sockets.resize(2);
  for (int i : {0, 1}) {
    img.sockets[static_cast<std::size_t>(i)].type = SOCK_STREAM;
    img.sockets[static_cast<std::size_t>(i)].state = "connected";
    img.sockets[static_cast<std::size_t>(i)].peer = 1 - i;
  }
  img.sockets[1].queue = {{data.size() - 1, 1, "", {0}}};
  ASSERT_EQ(bad_image_kind(img, {}, data.size()), 0);
  OpenFiles files(img, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()),
                  "");
  char byte = 0;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_EQ(::recvmsg(files.fd(3), &msg, MSG_DONTWAIT), 1);
  EXPECT_EQ(byte, 'x');
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  ASSERT_TRUE(c != nullptr && c->cmsg_type == SCM_RIGHTS);
  int passed = -1;
  std::memcpy(&passed, CMSG_DATA(c), sizeof passed);
  UniqueFd received(passed);
  char buf[64] = {};
  ASSERT_EQ(::read(received.get(), buf, sizeof buf), static_cast<ssize_t>(data.size() - 1));
  EXPECT_EQ(std::string(buf, data.size() - 1), "in the pipe");
  ASSERT_EQ(::write(files.fd(1), "y", 1), 1);
  EXPECT_EQ(::read(files.fd(0), buf, sizeof buf), 1) << "the pipe in flight is the image's";
}

TEST(OpenFiles, NamesAFileThatIsGone) {
  FilesImage img;
  img.files.push_back({"file", "/nonexistent/ckpt-test", O_RDONLY, 0, -1, -1, false, {}, -1});
  try {
    OpenFiles files(img, {}, "");
    FAIL() << "opened a missing file";
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ckpt-test"), std::string::npos);
  }
}

}  // namespace
}  // namespace crossrig::engine
