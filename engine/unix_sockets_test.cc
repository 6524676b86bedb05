#include "engine/unix_sockets.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/ckpt_error.h"
#include "engine/fd_passing.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

std::string abstract(const std::string& what) {
  return std::string(1, '\0') + "crossrig-unix-test-" + std::to_string(::getpid()) + "-" + what;
}

sockaddr_un address(const std::string& name, socklen_t* len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, name.data(), name.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                (name[0] == '\0' ? 0 : 1));
  return a;
}

UniqueFd bound(int type, const std::string& name) {
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  socklen_t len = 0;
  sockaddr_un a = address(name, &len);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len), 0) << std::strerror(errno);
  return fd;
}

std::string take(int fd) {
  char buf[256];
  ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n < 0 ? "<nothing>" : std::string(buf, static_cast<std::size_t>(n));
}

std::string name_of(int fd, bool peer) {
  sockaddr_un a{};
  socklen_t len = sizeof a;
  const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
                     : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  if (r != 0) return "<error>";
  std::string name(a.sun_path, len - offsetof(sockaddr_un, sun_path));
  if (!name.empty() && name[0] != '\0') name.resize(std::strlen(name.c_str()));
  return name;
}

// Sends bytes from fd with the descriptors passed in flight (SCM_RIGHTS).
void send_with(int fd, const std::string& bytes, const std::vector<int>& passed) {
  ASSERT_EQ(
      send_message(fd, std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                   passed, nullptr, 0, 0),
      static_cast<ssize_t>(bytes.size()))
      << std::strerror(errno);
}

// The next message queued to fd (its bytes, its sender's name) and the descriptors with it.
struct Received {
  std::string bytes, from;
  std::vector<UniqueFd> fds;
};
Received receive(int fd) {
  Received r;
  char buf[256];
  sockaddr_un from{};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) {
    r.bytes = "<nothing>";
    return r;
  }
  r.bytes.assign(buf, static_cast<std::size_t>(n));
  if (msg.msg_namelen > offsetof(sockaddr_un, sun_path))
    r.from.assign(from.sun_path, msg.msg_namelen - offsetof(sockaddr_un, sun_path));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_type != SCM_RIGHTS) continue;
    for (std::size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
      int passed = -1;
      std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
      r.fds.emplace_back(passed);
    }
  }
  return r;
}

ino_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// The image of a stream socketpair {0, 1} whose ends have bytes queued, in data.
std::vector<UnixSocketImage> stream_pair(std::vector<std::uint8_t>& data) {
  const std::string bytes = "to zeroto one";
  data.assign(bytes.begin(), bytes.end());
  std::vector<UnixSocketImage> s(2);
  for (int i : {0, 1}) {
    s[static_cast<std::size_t>(i)].type = SOCK_STREAM;
    s[static_cast<std::size_t>(i)].state = "connected";
    s[static_cast<std::size_t>(i)].peer = 1 - i;
  }
  s[0].queue = {{0, 7, "", {}}};
  s[1].queue = {{7, 6, "", {}}};
  s[1].shutdown = 2;
  s[0].shutdown = 1;
  return s;
}

TEST(MakeUnixSockets, ASocketpairWithItsQueuesAndShutdown) {
  std::vector<std::uint8_t> data;
  const auto sockets = stream_pair(data);
  auto fds = make_unix_sockets(sockets, data, {});
  ASSERT_EQ(fds.size(), 2u);
  EXPECT_EQ(take(fds[0].get()), "to zero");
  EXPECT_EQ(take(fds[1].get()), "to one");
  EXPECT_EQ(take(fds[0].get()), "");  // its peer shut sending
  ASSERT_EQ(::write(fds[0].get(), "x", 1), 1);
  EXPECT_EQ(take(fds[1].get()), "x");
}

UnixSocketImage stream(const std::string& state, const std::string& name, int peer,
                       int listener = -1, int backlog = 0) {
  UnixSocketImage s;
  s.backlog = backlog;
  s.type = SOCK_STREAM;
  s.state = state;
  s.name = name;
  s.peer = peer;
  s.listener = listener;
  return s;
}

TEST(MakeUnixSockets, ConnectionsComeBackThroughTheirListenerInOrder) {
  const std::string name = abstract("listener");
  const std::vector<UnixSocketImage> fixed = {
      stream("listening", name, -1, -1, 1),
      // Accepted from 0, so it shares its name, and its client.
      stream("connected", name, 2),
      stream("connected", "", 1),
      // Two clients whose connections wait in 0's queue, 5 before 6.
      stream("connected", abstract("a"), 5),
      stream("connected", "", 6),
      stream("connected", name, 3, 0),
      stream("connected", name, 4, 0),
  };
  auto fds = make_unix_sockets(fixed, {}, {});
  EXPECT_EQ(name_of(fds[1].get(), false), name);
  EXPECT_EQ(name_of(fds[2].get(), true), name);
  EXPECT_FALSE(fds[5]);
  EXPECT_FALSE(fds[6]);
  ASSERT_EQ(::fcntl(fds[0].get(), F_SETFL, O_NONBLOCK), 0);
  UniqueFd first(::accept(fds[0].get(), nullptr, nullptr));
  UniqueFd second(::accept(fds[0].get(), nullptr, nullptr));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(name_of(first.get(), true), abstract("a"));
  EXPECT_EQ(name_of(second.get(), true), "");
  EXPECT_LT(::accept(fds[0].get(), nullptr, nullptr), 0);
}

TEST(MakeUnixSockets, AStaleSocketFileIsReplacedALiveOneIsNot) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "s").string();
  bound(SOCK_DGRAM, path).reset();  // Its file stays behind, bound to nothing.
  std::vector<UnixSocketImage> s(1);
  s[0].type = SOCK_STREAM;
  s[0].state = "listening";
  s[0].name = path;
  auto fds = make_unix_sockets(s, {}, {});
  EXPECT_EQ(name_of(fds[0].get(), false), path);
  try {
    make_unix_sockets(s, {}, {});
    FAIL() << "bound a name a live socket holds";
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("is taken by a live socket"), std::string::npos)
        << e.what();
  }
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << "the live socket's file was removed";
}

TEST(MakeUnixSockets, DatagramsComeFromTheirSendersNames) {
  const std::string server = abstract("server"), gone = abstract("gone");
  const std::string bytes = "onetwothree";
  std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  std::vector<UnixSocketImage> s(3);
  for (auto& e : s) {
    e.type = SOCK_DGRAM;
    e.state = "unconnected";
  }
  s[0].name = server;
  s[0].queue = {{0, 3, abstract("client"), {}}, {3, 3, "", {}}, {6, 5, gone, {}}};
  s[1].name = abstract("client");
  // 2 is connected to 0 and sends to it without naming it.
  s[2].state = "connected";
  s[2].peer = 0;
  auto fds = make_unix_sockets(s, data, {});
  char buf[16];
  for (const auto& [want_bytes, want_from] :
       {std::pair{"one", abstract("client")}, {"two", std::string()}, {"three", gone}}) {
    sockaddr_un from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fds[0].get(), buf, sizeof buf, MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &len);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), want_bytes);
    const std::size_t at = offsetof(sockaddr_un, sun_path);
    EXPECT_EQ(len > at ? std::string(from.sun_path, len - at) : "", want_from);
  }
  ASSERT_EQ(::send(fds[2].get(), "x", 1, 0), 1);
  EXPECT_EQ(take(fds[0].get()), "x");
}

TEST(MakeUnixSockets, MessagesCarryTheirDescriptorsInFlightAgain) {
  test_support::TempDir dir;
  UniqueFd file(::open((dir.path() / "f").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_EQ(::write(file.get(), "0123456789", 10), 10);
  ASSERT_EQ(::lseek(file.get(), 5, SEEK_SET), 5);
  int pipe_ends[2];
  ASSERT_EQ(::pipe2(pipe_ends, O_CLOEXEC), 0);
  UniqueFd pipe_r(pipe_ends[0]), pipe_w(pipe_ends[1]);
  const std::string bytes = "onetwofour";
  std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  std::vector<std::uint8_t> unused;
  std::vector<UnixSocketImage> s = stream_pair(unused);
  s[0].queue = {{0, 3, "", {0}}, {3, 3, "", {1, 2}}};
  s[1].queue.clear();
  s[0].shutdown = s[1].shutdown = 0;
  // 2: a datagram server, sent to by name from a socket bound to the sender's; 3 travels in
  // flight.
  s.resize(4);
  s[2].type = s[3].type = SOCK_DGRAM;
  s[2].state = s[3].state = "unconnected";
  s[2].name = abstract("fd-server");
  s[2].queue = {{6, 4, abstract("fd-client"), {0, 1}}};
  std::vector<FileImage> files(3);
  files[0].kind = "file";
  files[1].kind = "unix";
  files[1].socket = 3;
  files[2].kind = "pipe";
  const std::vector<int> fds = {file.get(), -1, pipe_r.get()};
  auto made = make_unix_sockets(s, data, {files, fds});

  Received one = receive(made[0].get());
  EXPECT_EQ(one.bytes, "one");
  ASSERT_EQ(one.fds.size(), 1u);
  EXPECT_EQ(::lseek(one.fds[0].get(), 0, SEEK_CUR), 5);
  ASSERT_EQ(::lseek(one.fds[0].get(), 7, SEEK_SET), 7);
  EXPECT_EQ(::lseek(file.get(), 0, SEEK_CUR), 7) << "not the same open file description";
  Received two = receive(made[0].get());
  EXPECT_EQ(two.bytes, "two");
  ASSERT_EQ(two.fds.size(), 2u);
  EXPECT_EQ(inode_of(two.fds[0].get()), inode_of(made[3].get()));
  EXPECT_EQ(inode_of(two.fds[1].get()), inode_of(pipe_r.get()));
  EXPECT_EQ(receive(made[0].get()).bytes, "<nothing>");
  Received four = receive(made[2].get());
  EXPECT_EQ(four.bytes, "four");
  EXPECT_EQ(four.from, abstract("fd-client"));
  ASSERT_EQ(four.fds.size(), 2u);
  EXPECT_EQ(inode_of(four.fds[1].get()), inode_of(made[3].get()));
}

TEST(CheckUnixSockets, RefusesPeersQueuesAndNamesOutOfRange) {
  std::vector<std::uint8_t> data;
  FilesImage f;
  f.sockets = stream_pair(data);
  EXPECT_NO_THROW(check_unix_sockets(f, data.size()));
  auto bad = [&](auto change) {
    FilesImage g = f;
    change(g);
    EXPECT_THROW(check_unix_sockets(g, data.size()), CkptError);
  };
  bad([](FilesImage& g) { g.sockets[0].peer = 2; });
  bad([](FilesImage& g) { g.sockets[0].queue[0].length = 100; });
  bad([](FilesImage& g) { g.sockets[0].name = std::string(200, 'x'); });
  bad([](FilesImage& g) { g.sockets[0].state = "half"; });
  bad([](FilesImage& g) { g.sockets[0].listener = 1; });
  bad([](FilesImage& g) {
    g.files.push_back({"unix", "socket:[1]", O_RDWR, 0, -1, -1, false, {}, -1, 5});
  });
  FilesImage carrying = f;
  carrying.files.push_back({"file", "/tmp/x", O_RDONLY, 0, -1, -1, false, {}, -1});
  carrying.sockets[0].queue[0].files = {0};
  EXPECT_NO_THROW(check_unix_sockets(carrying, data.size()));
  for (int file : {1, -1}) {
    FilesImage g = carrying;
    g.sockets[0].queue[0].files = {0, file};
    EXPECT_THROW(check_unix_sockets(g, data.size()), CkptError) << "file " << file;
  }
  for (const char* kind : {"inet", "epoll"}) {
    FilesImage g = carrying;
    g.files[0].kind = kind;
    EXPECT_THROW(check_unix_sockets(g, data.size()), CkptError) << kind << " in flight";
  }
}

TEST(PrintableName, AbstractNamesGetAnAt) {
  EXPECT_EQ(printable_name("/run/x.sock"), "/run/x.sock");
  EXPECT_EQ(printable_name(std::string("\0a\0b", 4)), "@a@b");
  EXPECT_EQ(printable_name(""), "");
}

// The dump's side reads ckpt's own sockets here: pidfd_getfd works on the caller itself.
class UnixSocketTableTest : public ::testing::Test {
 protected:
  // Reads ckpt's own sockets fds; the descriptors in flight in their queues land in
  // in_flight_, and those that are sockets are registered as the file table would.
  std::vector<UnixSocketImage> read_own(const std::vector<int>& fds) {
    UnixSocketTable table;
    for (int fd : fds)
      table.add(::getpid(), fd, static_cast<std::uint32_t>(inode_of(fd)));
    ImageWriter w((dir_.path() / "img").string());
    PagesWriter p = w.open_pages("files-data.img");
    auto out = table.read(p, [&](UniqueFd fd, const UnixSocketTable::Queue& queue) {
      struct stat st {};
      EXPECT_EQ(::fstat(fd.get(), &st), 0);
      if (S_ISSOCK(st.st_mode))
        table.add(::getpid(), fd.get(), static_cast<std::uint32_t>(st.st_ino), &queue);
      in_flight_.push_back(std::move(fd));
      return static_cast<int>(in_flight_.size() - 1);
    });
    data_.resize(p.size());
    EXPECT_EQ(::pread(p.fd(), data_.data(), data_.size(), 0), static_cast<ssize_t>(data_.size()));
    return out;
  }
  std::string bytes_of(const QueuedImage& q) const {
    return std::string(data_.begin() + static_cast<long>(q.offset),
                       data_.begin() + static_cast<long>(q.offset + q.length));
  }
  test_support::TempDir dir_;
  std::vector<std::uint8_t> data_;
  std::vector<UniqueFd> in_flight_;
};

TEST_F(UnixSocketTableTest, ReadsPeersAndQueuesAndLeavesThemQueued) {
  int ends[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, ends), 0);
  UniqueFd a(ends[0]), b(ends[1]);
  ASSERT_EQ(::send(b.get(), "first", 5, 0), 5);
  ASSERT_EQ(::send(b.get(), "", 0, 0), 0);
  ASSERT_EQ(::send(b.get(), "third", 5, 0), 5);
  const int peek_off = 1;
  ASSERT_EQ(::setsockopt(a.get(), SOL_SOCKET, SO_PEEK_OFF, &peek_off, sizeof peek_off), 0);
  auto s = read_own({a.get(), b.get()});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].peer, 1);
  EXPECT_EQ(s[1].peer, 0);
  EXPECT_EQ(s[0].peek_off, 1);
  ASSERT_EQ(s[0].queue.size(), 3u);
  EXPECT_EQ(s[0].queue[1].length, 0u);
  const auto& q = s[0].queue[2];
  EXPECT_EQ(std::string(data_.begin() + static_cast<long>(q.offset),
                        data_.begin() + static_cast<long>(q.offset + q.length)),
            "third");
  int off = 0;
  socklen_t len = sizeof off;
  ASSERT_EQ(::getsockopt(a.get(), SOL_SOCKET, SO_PEEK_OFF, &off, &len), 0);
  EXPECT_EQ(off, 1) << "the peek offset was not put back";
  EXPECT_EQ(take(a.get()), "first");
}

TEST_F(UnixSocketTableTest, ReadsDescriptorsInFlightInAStreamAndLeavesThemQueued) {
  int ends[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, ends), 0);
  UniqueFd a(ends[0]), b(ends[1]);
  int pipe_ends[2];
  ASSERT_EQ(::pipe(pipe_ends), 0);
  UniqueFd pipe_r(pipe_ends[0]), pipe_w(pipe_ends[1]);
  // d travels in flight, its peer c stays.
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, ends), 0);
  UniqueFd c(ends[0]), d(ends[1]);
  send_with(b.get(), "head", {});
  send_with(b.get(), "one", {pipe_r.get()});
  send_with(b.get(), "two", {pipe_w.get(), d.get()});
  send_with(b.get(), "tail", {});
  auto s = read_own({a.get(), b.get(), c.get()});
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[3].ino, inode_of(d.get()));
  EXPECT_EQ(s[3].peer, 2);
  EXPECT_EQ(s[2].peer, 3);
  ASSERT_EQ(s[0].queue.size(), 3u);
  // A peek does not show where "one" starts, so "head" comes with it.
  EXPECT_EQ(bytes_of(s[0].queue[0]), "headone");
  EXPECT_EQ(s[0].queue[0].files, std::vector<int>{0});
  EXPECT_EQ(bytes_of(s[0].queue[1]), "two");
  EXPECT_EQ(s[0].queue[1].files, (std::vector<int>{1, 2}));
  EXPECT_EQ(bytes_of(s[0].queue[2]), "tail");
  EXPECT_TRUE(s[0].queue[2].files.empty());
  ASSERT_EQ(in_flight_.size(), 3u);
  EXPECT_EQ(inode_of(in_flight_[0].get()), inode_of(pipe_r.get()));
  EXPECT_EQ(inode_of(in_flight_[2].get()), inode_of(d.get()));
  EXPECT_EQ(take(a.get()), "headone") << "the queue was not left as it was";
}

class UnixSocketTableRecordsTest : public UnixSocketTableTest,
                                   public ::testing::WithParamInterface<int> {};

TEST_P(UnixSocketTableRecordsTest, ReadsEachRecordsDescriptors) {
  int ends[2];
  ASSERT_EQ(::socketpair(AF_UNIX, GetParam(), 0, ends), 0);
  UniqueFd a(ends[0]), b(ends[1]);
  int pipe_ends[2];
  ASSERT_EQ(::pipe(pipe_ends), 0);
  UniqueFd pipe_r(pipe_ends[0]), pipe_w(pipe_ends[1]);
  send_with(b.get(), "first", {});
  send_with(b.get(), "second", {pipe_r.get(), pipe_w.get()});
  send_with(b.get(), "", {pipe_r.get()});
  send_with(b.get(), "last", {});
  auto s = read_own({a.get(), b.get()});
  ASSERT_EQ(s[0].queue.size(), 4u);
  EXPECT_TRUE(s[0].queue[0].files.empty());
  EXPECT_EQ(bytes_of(s[0].queue[1]), "second");
  EXPECT_EQ(s[0].queue[1].files, (std::vector<int>{0, 1}));
  EXPECT_EQ(s[0].queue[2].length, 0u);
  EXPECT_EQ(s[0].queue[2].files, std::vector<int>{2});
  EXPECT_EQ(bytes_of(s[0].queue[3]), "last");
  EXPECT_TRUE(s[0].queue[3].files.empty());
  EXPECT_EQ(take(a.get()), "first");
  EXPECT_EQ(receive(a.get()).fds.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(DatagramAndSeqpacket, UnixSocketTableRecordsTest,
                         ::testing::Values(SOCK_DGRAM, SOCK_SEQPACKET));

TEST_F(UnixSocketTableTest, RefusesDescriptorsInFlightInsideASocketInFlight) {
  int outer[2], inner[2], pipe_ends[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, outer), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, inner), 0);
  ASSERT_EQ(::pipe(pipe_ends), 0);
  UniqueFd o0(outer[0]), o1(outer[1]), i0(inner[0]), i1(inner[1]), pipe_r(pipe_ends[0]),
      pipe_w(pipe_ends[1]);
  send_with(i1.get(), "inner", {pipe_r.get()});
  send_with(o1.get(), "outer", {i0.get()});
  try {
    read_own({o0.get(), o1.get()});
    FAIL() << "read a socket in flight with descriptors in flight in its queue";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("a socket in flight in the queue of fd " +
                                         std::to_string(o0.get())),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("inside one in flight"), std::string::npos) << e.what();
  }
  int off = 0;
  socklen_t len = sizeof off;
  ASSERT_EQ(::getsockopt(i0.get(), SOL_SOCKET, SO_PEEK_OFF, &off, &len), 0);
  EXPECT_EQ(off, -1) << "the refused socket's peek offset was not put back";
  Received r = receive(i0.get());
  EXPECT_EQ(r.bytes, "inner");
  EXPECT_EQ(r.fds.size(), 1u);
  EXPECT_EQ(receive(o0.get()).fds.size(), 1u);
}

TEST_F(UnixSocketTableTest, RefusesOtherFamilies) {
  UniqueFd udp(::socket(AF_INET, SOCK_DGRAM, 0));
  try {
    read_own({udp.get()});
    FAIL() << "read an IPv4 socket as a unix one";
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("an IPv4 socket (datagram)"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace crossrig::engine
