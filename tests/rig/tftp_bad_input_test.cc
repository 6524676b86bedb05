// Bad input against `rig tftp`: malformed, truncated, oversized and unknown packets, options
// out of range, wrong ACKs, escapes from the root, many clients with some vanishing. After
// each, a well-behaved client must still get its file.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <filesystem>
#include <thread>

#include "common/unique_fd.h"
#include "rig/tftp/tftp_client.h"
#include "rig/tftp/tftp_packet.h"
#include "tests/rig/tftp_harness.h"

namespace crossrig::rig::tftp::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A raw UDP socket that talks to the server like a client would, or wouldn't.
class RawClient {
 public:
  explicit RawClient(const crossrig::SocketAddress& server)
      : server_(server), fd_(socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}

  void send_to_server(const std::vector<std::uint8_t>& bytes) { send_to(server_, bytes); }
  void send_to(const crossrig::SocketAddress& to, const std::vector<std::uint8_t>& bytes) {
    ASSERT_GE(sendto(fd_.get(), bytes.data(), bytes.size(), 0, to.get(), to.length), 0);
  }
  void reply(const std::vector<std::uint8_t>& bytes) { send_to(peer_, bytes); }

  // The next packet within limit, decoded; nullopt on silence.
  std::optional<Packet> receive(std::chrono::milliseconds limit = 3000ms) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(limit.count())) != 1) return std::nullopt;
    peer_.length = sizeof peer_.storage;
    ssize_t n = recvfrom(fd_.get(), buffer_.data(), buffer_.size(), 0, peer_.get(), &peer_.length);
    if (n < 0) return std::nullopt;
    auto d = decode(std::span<const std::uint8_t>(buffer_.data(), std::size_t(n)));
    if (!std::holds_alternative<Packet>(d)) return std::nullopt;
    return std::get<Packet>(d);
  }
  const crossrig::SocketAddress& peer() const { return peer_; }

 private:
  crossrig::SocketAddress server_, peer_;
  crossrig::UniqueFd fd_;
  std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(70000);
};

std::vector<std::uint8_t> rrq(const std::string& name, std::vector<Option> options = {}) {
  return encode(Request{Opcode::kRrq, name, "octet", std::move(options)});
}

class TftpBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root() / "sub");
    write_random(root() / "good", 200000, 7);
    write_random(root() / "mib", 1 << 20, 8);
    write_random(dir_.path() / "outside", 100, 9);
    fs::create_symlink("../outside", root() / "up");
    fs::create_symlink(dir_.path() / "outside", root() / "abs");
    fs::create_symlink("/etc/passwd", root() / "passwd");
    server_ = std::make_unique<RigTftp>(root(), std::vector<std::string>{"--retries", "2"});
  }
  fs::path root() const { return dir_.path() / "root"; }

  // The promise every bad-input case ends with.
  void expect_still_serving() {
    FetchOptions o;
    o.blksize = 1468;
    o.windowsize = 8;
    auto r = fetch(server_->address(), "good", o);
    ASSERT_TRUE(r.ok) << "server stopped serving: " << r.error;
    EXPECT_EQ(sha256(r.data), sha256_file(root() / "good"));
    EXPECT_TRUE(server_->running());
  }

  // Sends bytes as a request and expects an ERROR with code back.
  Error expect_error(const std::vector<std::uint8_t>& bytes, ErrorCode code) {
    RawClient c(server_->address());
    c.send_to_server(bytes);
    auto p = c.receive();
    EXPECT_TRUE(p && std::holds_alternative<Error>(*p)) << "no ERROR packet";
    if (!p || !std::holds_alternative<Error>(*p)) return {};
    EXPECT_EQ(std::get<Error>(*p).code, code) << std::get<Error>(*p).message;
    return std::get<Error>(*p);
  }

  TempDir dir_{"tftp-bad-input"};
  std::unique_ptr<RigTftp> server_;
};

TEST_F(TftpBadInput, MalformedTruncatedAndUnknownPackets) {
  const std::vector<std::vector<std::uint8_t>> junk = {
      {},
      {0},
      {0, 1, 'a'},
      {0, 9, 0, 0},
      {0xff, 0xff, 1, 2, 3},
      {0, 1, 'f', 0, 'o', 'c', 't'},
      {0, 1, 'f', 0, 'x', 'y', 0},
      {0, 1, 'g', 'o', 'o', 'd', 0, 'o', 'c', 't', 'e', 't', 0, 'b', 'l', 'k'},
  };
  for (const auto& bytes : junk) {
    if (bytes.size() >= 4 || bytes.size() == 3) {
      expect_error(bytes, ErrorCode::kIllegalOperation);
    } else {
      RawClient c(server_->address());
      c.send_to_server(bytes);
    }
    expect_still_serving();
  }
  auto e = expect_error({0, 9, 0, 0}, ErrorCode::kIllegalOperation);
  EXPECT_EQ(e.message, "malformed request: unknown opcode 9");
}

TEST_F(TftpBadInput, OversizedPacketsAndStrayPacketsOnTheServerPort) {
  std::vector<std::uint8_t> huge(65000, 'a');
  huge[0] = 0;
  huge[1] = 1;
  expect_error(huge, ErrorCode::kIllegalOperation);
  expect_still_serving();
  expect_error(encode(Ack{1}), ErrorCode::kIllegalOperation);
  expect_error(encode(Data{1, {}}), ErrorCode::kIllegalOperation);
  expect_still_serving();
}

TEST_F(TftpBadInput, WritesAreRefused) {
  auto e =
      expect_error(encode(Request{Opcode::kWrq, "new", "octet", {}}), ErrorCode::kAccessViolation);
  EXPECT_EQ(e.message, "this server is read-only: write requests are refused");
  EXPECT_FALSE(fs::exists(root() / "new"));
  expect_still_serving();
}

TEST_F(TftpBadInput, OptionsOutOfRangeAndUnknown) {
  expect_error(rrq("good", {{"blksize", "7"}}), ErrorCode::kOptionRefused);
  expect_error(rrq("good", {{"blksize", "abc"}}), ErrorCode::kOptionRefused);
  expect_error(rrq("good", {{"windowsize", "0"}}), ErrorCode::kOptionRefused);
  expect_error(rrq("good", {{"timeout", "256"}}), ErrorCode::kOptionRefused);
  expect_still_serving();
  // Too large a blksize is lowered, unknown options are left out of the OACK.
  RawClient c(server_->address());
  c.send_to_server(rrq("good", {{"blksize", "99999"}, {"frobnicate", "1"}}));
  auto p = c.receive();
  ASSERT_TRUE(p && std::holds_alternative<Oack>(*p));
  EXPECT_EQ(std::get<Oack>(*p).options, (std::vector<Option>{{"blksize", "65464"}}));
  c.reply(encode(Error{ErrorCode::kNotDefined, "enough"}));
  expect_still_serving();
}

TEST_F(TftpBadInput, WrongAndDuplicateAcksSendNothingExtra) {
  RawClient c(server_->address());
  c.send_to_server(rrq("good"));
  auto first = c.receive();
  ASSERT_TRUE(first && std::holds_alternative<Data>(*first));
  EXPECT_EQ(std::get<Data>(*first).block, 1);
  for (std::uint16_t wrong : {0, 5, 65535})
    c.reply(encode(Ack{wrong}));
  // Nothing answers a wrong ACK: the next packet is the retransmission of block 1 (after 1 s).
  auto again = c.receive();
  ASSERT_TRUE(again && std::holds_alternative<Data>(*again));
  EXPECT_EQ(std::get<Data>(*again).block, 1);
  c.reply(encode(Ack{1}));
  c.reply(encode(Ack{1}));  // a duplicate must not make a second block 2 (Sorcerer's Apprentice)
  auto second = c.receive();
  ASSERT_TRUE(second && std::holds_alternative<Data>(*second));
  EXPECT_EQ(std::get<Data>(*second).block, 2);
  EXPECT_FALSE(c.receive(500ms).has_value()) << "a duplicate ACK was answered";
  // A stranger writing to the transfer's port does not disturb it.
  RawClient stranger(server_->address());
  stranger.send_to(c.peer(), encode(Ack{2}));
  EXPECT_FALSE(c.receive(300ms).has_value());
  c.reply(encode(Ack{2}));
  auto third = c.receive();
  ASSERT_TRUE(third && std::holds_alternative<Data>(*third));
  EXPECT_EQ(std::get<Data>(*third).block, 3);
  expect_still_serving();
}

TEST_F(TftpBadInput, PathEscapesAreRefused) {
  struct Escape {
    std::string name;
    ErrorCode code;
  };
  for (const auto& [name, code] : std::vector<Escape>{
           {"../outside", ErrorCode::kAccessViolation},
           {"sub/../../outside", ErrorCode::kAccessViolation},
           {"/../outside", ErrorCode::kAccessViolation},
           {"up", ErrorCode::kAccessViolation},
           {"abs", ErrorCode::kAccessViolation},
           {"passwd", ErrorCode::kAccessViolation},
           {"/etc/passwd", ErrorCode::kFileNotFound},  // a leading '/' means the root
           {dir_.path().string() + "/outside", ErrorCode::kFileNotFound},
       }) {
    SCOPED_TRACE(name);
    auto r = fetch(server_->address(), name, {});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.code, code) << r.error;
    EXPECT_TRUE(r.data.empty());
    expect_still_serving();
  }
}

TEST_F(TftpBadInput, SixtyFourClientsSomeVanishing) {
  const std::string want = sha256_file(root() / "mib");
  std::vector<FetchResult> good(48);
  std::vector<std::thread> threads;
  // 16 clients ask and then vanish: half close their port, half stay silent.
  std::vector<std::unique_ptr<RawClient>> silent;
  for (int i = 0; i < 16; ++i) {
    auto c = std::make_unique<RawClient>(server_->address());
    c->send_to_server(rrq("mib", {{"blksize", "1468"}, {"windowsize", "16"}}));
    if (i % 2 == 0) silent.push_back(std::move(c));
  }
  for (auto& r : good) {
    threads.emplace_back([this, &r] {
      FetchOptions o;
      o.blksize = 1468;
      o.windowsize = 4;
      r = fetch(server_->address(), "mib", o);
    });
  }
  for (auto& t : threads)
    t.join();
  for (const auto& r : good) {
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(sha256(r.data), want);
  }
  // The vanished ones end as failures in the log (closed port at once, silent after retries).
  auto log = server_->wait_transfers(64, 30s);
  ASSERT_EQ(log.size(), 64u);
  int failed = 0;
  for (const auto& line : log)
    failed += line["ok"].get<bool>() ? 0 : 1;
  EXPECT_EQ(failed, 16);
  expect_still_serving();
}

}  // namespace
}  // namespace crossrig::rig::tftp::testing
