// `rig console attach` driven through a pseudo-terminal as a person uses it, and
// `rig console expect` as scripts use it.

#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <fstream>

#include "common/unique_fd.h"
#include "tests/rig/console_harness.h"
#include "tests/rig/console_playback_peer.h"

namespace crossrig::rig::console {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::PlaybackPeer;

using testing::boot_fixture;
using testing::kWait;

struct Pty {
  UniqueFd master, slave;
  Pty() {
    int m = -1, s = -1;
    if (::openpty(&m, &s, nullptr, nullptr, nullptr) != 0) throw std::runtime_error("openpty");
    master.reset(m);
    slave.reset(s);
  }
  bool canonical() const {
    termios t{};
    ::tcgetattr(master.get(), &t);
    return (t.c_lflag & ICANON) && (t.c_lflag & ECHO);
  }
  void type(std::string_view keys) const {
    ASSERT_EQ(::write(master.get(), keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }
};

class ConsoleAttachTest : public testing::ConsoleServeTest {
 protected:
  void serve(const PlaybackPeer& peer) { ConsoleServeTest::serve(peer.address()); }

  // Runs rig with args, its output on a pipe; the exit code and the output.
  std::pair<int, std::string> run(std::vector<std::string> args) {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    UniqueFd out(p[0]), in(p[1]);
    args.insert(args.begin(), testing::rig_binary());
    Child c(args, env(), in.get());
    in.reset();
    std::string text = testing::read_to_end(out.get(), kWait);
    return {c.wait(kWait), text};
  }
};

TEST_F(ConsoleAttachTest, PersonTypesThroughTheMultiplexerAndDetachesWithTildeDot) {
  PlaybackPeer peer({{boot_fixture(), std::nullopt}}, 0ms);
  serve(peer);
  ASSERT_TRUE(testing::eventually([&] { return peer.finished(); }, kWait));
  Pty pty;
  ASSERT_TRUE(pty.canonical());
  Child attach({testing::rig_binary(), "console", "b1", "--backlog", "1"}, env(), pty.slave.get());
  std::string screen;
  ASSERT_TRUE(testing::read_until(pty.master.get(), screen, "qemu-x86 login: ", kWait)) << screen;
  EXPECT_NE(screen.find("[rig console: attached to b1 via multiplexer"), std::string::npos);
  EXPECT_FALSE(pty.canonical()) << "the terminal should be raw while attached";
  pty.type("root\r");
  ASSERT_TRUE(peer.wait_input("root\r", kWait));
  pty.type("~.");
  EXPECT_EQ(attach.wait(kWait), 0);
  EXPECT_TRUE(pty.canonical()) << "the terminal settings were not restored";
  ASSERT_TRUE(testing::read_until(pty.master.get(), screen, "detached from b1", kWait)) << screen;
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(peer.input(), "root\r") << "the detach sequence must not reach the board";
}

TEST_F(ConsoleAttachTest, SignalEndsTheSessionAndRestoresTheTerminal) {
  PlaybackPeer peer({{boot_fixture(), std::nullopt}}, 0ms);
  Pty pty;
  Child attach(
      {testing::rig_binary(), "console", "attach", "--name", "b1", "--address", peer.address()},
      env(), pty.slave.get());
  std::string screen;
  ASSERT_TRUE(testing::read_until(pty.master.get(), screen, "login: ", kWait)) << screen;
  EXPECT_NE(screen.find("(exclusive: no multiplexer runs for it)"), std::string::npos);
  EXPECT_FALSE(pty.canonical());
  attach.signal(SIGTERM);
  EXPECT_EQ(attach.wait(kWait), 0);
  EXPECT_TRUE(pty.canonical()) << "the terminal settings were not restored";
}

TEST_F(ConsoleAttachTest, DirectAttachForwardsTypingAndCustomDetachKey) {
  PlaybackPeer peer({{boot_fixture(), std::nullopt}}, 0ms);
  Pty pty;
  Child attach({testing::rig_binary(), "console", "attach", "--name", "b1", "--address",
                peer.address(), "--detach-key", "^]", "--escape", "none", "-q"},
               env(), pty.slave.get());
  std::string screen;
  ASSERT_TRUE(testing::read_until(pty.master.get(), screen, "login: ", kWait)) << screen;
  pty.type("~.root\r\x1d");
  EXPECT_EQ(attach.wait(kWait), 0);
  EXPECT_TRUE(peer.wait_input("~.root\r", kWait)) << peer.input();
}

TEST_F(ConsoleAttachTest, DirectAttachEndsWithExitCode3WhenTheBoardGoesAway) {
  std::string boot = boot_fixture();
  PlaybackPeer peer({{boot, boot.size() / 2}, {boot, std::nullopt}}, 5s);
  Pty pty;
  Child attach({testing::rig_binary(), "console", "b1", "--address", peer.address()}, env(),
               pty.slave.get());
  std::string screen;
  ASSERT_TRUE(
      testing::read_until(pty.master.get(), screen, "console connection of b1 closed", kWait))
      << screen;
  EXPECT_EQ(attach.wait(kWait), 3);
  EXPECT_TRUE(pty.canonical()) << "the terminal settings were not restored";
}

TEST_F(ConsoleAttachTest, ExpectCommandMatchesTimesOutAndExplainsUsage) {
  PlaybackPeer peer({{boot_fixture(), std::nullopt}}, 0ms);
  serve(peer);
  auto [rc, out] = run({"console", "expect", "--name", "b1", "--backlog", "8", "-e",
                        R"(TEST_CASE_ID=ckpt-(\w+) RESULT=fail)", "--json"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(R"("groups":["seccomp"])"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("matched":true)"), std::string::npos) << out;

  std::tie(rc, out) = run({"console", "expect", "--name", "b1", "--send", "root\\r", "-e",
                           "Password:", "--timeout", "0.5"});
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("timed out after 500 ms waiting for /Password:/ on b1"), std::string::npos)
      << out;
  EXPECT_TRUE(peer.wait_input("root\r", kWait));

  std::tie(rc, out) = run({"console", "expect", "--name", "nomux", "-e", "x"});
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("no console multiplexer for nomux"), std::string::npos) << out;

  std::tie(rc, out) = run({"console", "expect", "--name", "b1", "-e", "(unclosed"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("bad pattern /(unclosed/"), std::string::npos) << out;

  std::tie(rc, out) = run({"console", "serve", "--name", "../x", "--address", "h:1"});
  EXPECT_EQ(rc, 2) << out;
}

TEST_F(ConsoleAttachTest, WithoutAddressTheBoardsConsoleComesFromTheInventory) {
  PlaybackPeer peer({{boot_fixture(), std::nullopt}}, 0ms);
  auto inventory = dir_.path() / "inventory.yaml";
  std::ofstream(inventory)
      << "boards:\n"
         "  b2:\n"
         "    arch: s390x\n"
         "    boot: s390-netboot\n"
         "    power: {driver: command, on: 'true', off: 'true', state: 'echo on'}\n"
         "    console: "
      << peer.address()
      << "\n"
         "  quiet:\n"
         "    arch: aarch64\n"
         "    boot: uboot\n"
         "    power: {driver: command, on: 'true', off: 'true', state: 'echo on'}\n";
  auto [rc, out] = run({"console", "expect", "b2", "--inventory", inventory.string(), "-e",
                        R"(Linux version (\S+))"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Linux version"), std::string::npos) << out;

  std::tie(rc, out) =
      run({"console", "expect", "quiet", "--inventory", inventory.string(), "-e", "x"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("board 'quiet' in"), std::string::npos) << out;
  EXPECT_NE(out.find("has no console address"), std::string::npos) << out;

  std::tie(rc, out) =
      run({"console", "expect", "nosuch", "--inventory", inventory.string(), "-e", "x"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("no board 'nosuch'"), std::string::npos) << out;
}

}  // namespace
}  // namespace crossrig::rig::console
