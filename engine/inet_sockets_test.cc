#include "engine/inet_sockets.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "engine/ckpt_error.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

int port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  return ntohs(a.sin_port);
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  return a;
}

UniqueFd bound(int type) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(0);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

struct Connection {
  UniqueFd listener, client, server;
};

Connection connection() {
  Connection c;
  c.listener = bound(SOCK_STREAM);
  EXPECT_EQ(::listen(c.listener.get(), 1), 0);
  c.client = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(port_of(c.listener.get()));
  EXPECT_EQ(::connect(c.client.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  c.server = UniqueFd(::accept4(c.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  return c;
}

std::string read_some(int fd) {
  pollfd p{fd, POLLIN, 0};
  char buf[256];
  if (::poll(&p, 1, 5000) != 1) return "<nothing>";
  ssize_t n = ::read(fd, buf, sizeof buf);
  return n < 0 ? "<error>" : std::string(buf, static_cast<std::size_t>(n));
}

// The dump's side reads ckpt's own sockets here: pidfd_getfd works on the caller itself.
class InetTableTest : public ::testing::Test {
 protected:
  std::vector<InetSocketImage> read_own(InetSocketTable& table, const std::vector<int>& fds) {
    for (int fd : fds)
      table.add(::getpid(), fd);
    ImageWriter w((dir_.path() / "img").string());
    PagesWriter p = w.open_pages("files-data.img");
    auto out = table.read(p);
    data_.resize(p.size());
    EXPECT_EQ(::pread(p.fd(), data_.data(), data_.size(), 0), static_cast<ssize_t>(data_.size()));
    return out;
  }
  test_support::TempDir dir_;
  std::vector<std::uint8_t> data_;
};

TEST_F(InetTableTest, ListenersAndUdpSocketsWithTheirAddressesAndOptions) {
  UniqueFd listener = bound(SOCK_STREAM);
  ASSERT_EQ(::listen(listener.get(), 9), 0);
  UniqueFd a = bound(SOCK_DGRAM), b = bound(SOCK_DGRAM);
  sockaddr_in to = loopback(port_of(a.get()));
  ASSERT_EQ(::connect(b.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  const int on = 1;
  ASSERT_EQ(::setsockopt(b.get(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on), 0);
  InetSocketTable table(false);
  auto s = read_own(table, {listener.get(), a.get(), b.get()});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].state, "listening");
  EXPECT_EQ(s[0].backlog, 9);
  EXPECT_EQ(s[0].port, port_of(listener.get()));
  EXPECT_EQ(s[0].address, "127.0.0.1");
  EXPECT_EQ(s[1].state, "unconnected");
  EXPECT_EQ(s[2].state, "connected");
  EXPECT_EQ(s[2].peer_port, port_of(a.get()));
  EXPECT_TRUE(s[2].keepalive);
}

TEST_F(InetTableTest, RefusesQueuedDatagramsAndConnectionsWithoutTheOption) {
  UniqueFd a = bound(SOCK_DGRAM), b = bound(SOCK_DGRAM);
  sockaddr_in to = loopback(port_of(a.get()));
  ASSERT_EQ(::sendto(b.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 1);
  ASSERT_EQ(read_some(a.get()).size(), 1u);
  ASSERT_EQ(::sendto(b.get(), "y", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 1);
  auto refusal = [&](int fd) -> std::string {
    try {
      InetSocketTable table(false);
      read_own(table, {fd});
    } catch (const CkptError& e) {
      EXPECT_EQ(e.kind(), CkptError::kUnsupported);
      return e.what();
    }
    return "";
  };
  EXPECT_NE(refusal(a.get()).find("datagrams queued"), std::string::npos);
  Connection c = connection();
  EXPECT_NE(refusal(c.client.get()).find("dump with --tcp-established"), std::string::npos);
}

TEST(CheckInetSockets, RefusesUnreadableAddressesStatesAndQueues) {
  FilesImage f;
  f.inet_sockets.resize(1);
  InetSocketImage& s = f.inet_sockets[0];
  s.family = AF_INET;
  s.type = SOCK_STREAM;
  s.state = "established";
  s.address = s.peer_address = "127.0.0.1";
  s.recv_length = 4;
  EXPECT_NO_THROW(check_inet_sockets(f, 4));
  auto bad = [&](auto change) {
    FilesImage g = f;
    change(g.inet_sockets[0]);
    EXPECT_THROW(check_inet_sockets(g, 4), CkptError);
  };
  bad([](InetSocketImage& i) { i.address = "not an address"; });
  bad([](InetSocketImage& i) { i.family = AF_UNIX; });
  bad([](InetSocketImage& i) { i.state = "closing"; });
  bad([](InetSocketImage& i) { i.recv_offset = 1; });
  bad([](InetSocketImage& i) { i.unsent_length = 1; });
}

TEST(MakeInetSockets, AListenerOnItsPortAndAConnectedUdpSocket) {
  UniqueFd taken = bound(SOCK_STREAM), peer = bound(SOCK_DGRAM);
  const int port = port_of(taken.get());
  taken.reset();
  std::vector<InetSocketImage> s(2);
  s[0].family = s[1].family = AF_INET;
  s[0].type = SOCK_STREAM;
  s[0].state = "listening";
  s[0].address = s[1].address = s[1].peer_address = "127.0.0.1";
  s[0].port = port;
  s[0].backlog = 3;
  s[1].type = SOCK_DGRAM;
  s[1].state = "connected";
  s[1].peer_port = port_of(peer.get());
  auto fds = make_inet_sockets(s, {});
  EXPECT_EQ(port_of(fds[0].get()), port);
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(port);
  EXPECT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::send(fds[1].get(), "dgram", 5, 0), 5);
  EXPECT_EQ(read_some(peer.get()), "dgram");
}

// TCP_REPAIR needs CAP_NET_ADMIN and a real kernel: a connection read from ckpt's own
// sockets, closed silently in repair mode, then made again from its image.
TEST_F(InetTableTest, TcpRepairAConnectionComesBackWithItsQueues) {
  Connection c = connection();
  ASSERT_EQ(::write(c.client.get(), "to server", 9), 9);
  ASSERT_EQ(::write(c.server.get(), "to client", 9), 9);
  std::vector<InetSocketImage> images;
  {
    InetSocketTable table(true);
    images = read_own(table, {c.client.get(), c.server.get()});
    table.let_connections_die();
    c.client.reset();
    c.server.reset();
  }
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].state, "established");
  EXPECT_EQ(images[0].recv_length, 9u);
  auto fds = make_inet_sockets(images, data_);
  EXPECT_EQ(read_some(fds[1].get()), "to server");
  EXPECT_EQ(read_some(fds[0].get()), "to client");
  ASSERT_EQ(::write(fds[0].get(), "again", 5), 5);
  EXPECT_EQ(read_some(fds[1].get()), "again");
}

TEST_F(InetTableTest, TcpRepairAFailedOrLeaveRunningDumpLeavesTheConnectionWorking) {
  Connection c = connection();
  ASSERT_EQ(::write(c.client.get(), "queued", 6), 6);
  {
    InetSocketTable table(true);
    read_own(table, {c.client.get(), c.server.get()});
  }
  EXPECT_EQ(read_some(c.server.get()), "queued");
  ASSERT_EQ(::write(c.server.get(), "reply", 5), 5);
  EXPECT_EQ(read_some(c.client.get()), "reply");
}

}  // namespace
}  // namespace crossrig::engine
