#include "engine/sock_diag.h"

#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "common/unique_fd.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

std::uint32_t ino_of(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return static_cast<std::uint32_t>(st.st_ino);
}

UniqueFd bound(int type, const std::string& name) {
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, name.data(), name.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                          (name[0] == '\0' ? 0 : 1));
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len), 0) << std::strerror(errno);
  return fd;
}

void connect_to(int fd, const std::string& name) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, name.data(), name.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), len), 0) << std::strerror(errno);
}

TEST(SockDiag, ASocketpairsEndsNameEachOtherWithTheirQueues) {
  int ends[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ends), 0);
  UniqueFd a(ends[0]), b(ends[1]);
  ASSERT_EQ(::write(a.get(), "12345", 5), 5);
  ASSERT_EQ(::shutdown(a.get(), SHUT_WR), 0);
  const auto all = list_unix_sockets();
  const UnixDiag& da = all.at(ino_of(a.get()));
  const UnixDiag& db = all.at(ino_of(b.get()));
  EXPECT_EQ(da.type, SOCK_SEQPACKET);
  EXPECT_EQ(da.state, TCP_ESTABLISHED);
  EXPECT_TRUE(da.has_peer);
  EXPECT_EQ(da.peer, db.ino);
  EXPECT_EQ(db.peer, da.ino);
  EXPECT_EQ(db.rqueue, 5u);
  EXPECT_EQ(da.shutdown, 2);  // SEND_SHUTDOWN
  EXPECT_EQ(db.shutdown, 1);  // RCV_SHUTDOWN, from its peer
  EXPECT_TRUE(da.name.empty());
}

TEST(SockDiag, AClosedPeerIsAPeerOfInodeZero) {
  int ends[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, ends), 0);
  UniqueFd a(ends[0]);
  ::close(ends[1]);
  UniqueFd lone(::socket(AF_UNIX, SOCK_STREAM, 0));
  const auto all = list_unix_sockets();
  EXPECT_TRUE(all.at(ino_of(a.get())).has_peer);
  EXPECT_EQ(all.at(ino_of(a.get())).peer, 0u);
  EXPECT_FALSE(all.at(ino_of(lone.get())).has_peer);
}

TEST(SockDiag, AListenerNamesItsWaitingConnectionsByTheirClientsInOrder) {
  const std::string name =
      std::string(1, '\0') + "crossrig-sock-diag-" + std::to_string(::getpid());
  UniqueFd listener = bound(SOCK_STREAM, name);
  ASSERT_EQ(::listen(listener.get(), 7), 0);
  UniqueFd first(::socket(AF_UNIX, SOCK_STREAM, 0)), second(::socket(AF_UNIX, SOCK_STREAM, 0));
  connect_to(first.get(), name);
  connect_to(second.get(), name);
  ASSERT_EQ(::write(second.get(), "abc", 3), 3);
  const auto all = list_unix_sockets();
  const UnixDiag& l = all.at(ino_of(listener.get()));
  EXPECT_EQ(l.state, TCP_LISTEN);
  EXPECT_EQ(l.name, name);
  EXPECT_EQ(l.icons, (std::vector{ino_of(first.get()), ino_of(second.get())}));
  EXPECT_EQ(l.rqueue, 2u);
  EXPECT_EQ(l.wqueue, 7u);
  EXPECT_EQ(all.at(ino_of(first.get())).wqueue, 0u);
  EXPECT_NE(all.at(ino_of(second.get())).wqueue, 0u);
}

TEST(SockDiag, ABoundPathCarriesItsFilesInode) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "s").string();
  UniqueFd s = bound(SOCK_DGRAM, path);
  const UnixDiag d = list_unix_sockets().at(ino_of(s.get()));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(d.name, path + std::string(1, '\0'));
  EXPECT_EQ(d.vfs_ino, st.st_ino);
  EXPECT_EQ(d.vfs_dev, major(st.st_dev) << 20 | minor(st.st_dev));
}

TEST(SockDiag, WorksForUnixSocketsHere) {
  std::string detail;
  EXPECT_TRUE(sock_diag_works(AF_UNIX, 0, &detail)) << detail;
}

}  // namespace
}  // namespace crossrig::engine
