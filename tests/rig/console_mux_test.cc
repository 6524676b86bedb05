// `rig console serve` against a playback board: logs per boot, readers, input, slow readers,
// and the expect API used through the multiplexer.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <regex>
#include <sstream>

#include "common/net_io.h"
#include "rig/console/console_client.h"
#include "rig/console/console_paths.h"
#include "rig/console/console_session.h"
#include "tests/rig/console_harness.h"
#include "tests/rig/console_playback_peer.h"

namespace crossrig::rig::console {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::PlaybackPeer;

using testing::boot_fixture;
using testing::kWait;

// The log's lines without their time stamps; fails the test on a line without one.
std::vector<std::string> unstamped_lines(const std::string& log) {
  static const std::regex stamped(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (.*)$)");
  std::vector<std::string> lines;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, stamped)) << "unstamped log line: " << line;
    lines.push_back(m[1]);
  }
  return lines;
}

class ConsoleMuxTest : public testing::ConsoleServeTest {
 protected:
  void serve(const PlaybackPeer& peer, std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--max-backoff", "0.2"});
    ConsoleServeTest::serve(peer.address(), extra);
  }

  UniqueFd reader(Hello hello = {}) {
    auto fd = connect_mux(socket(), hello);
    if (!fd) throw std::runtime_error("no multiplexer listening at " + socket().string());
    return std::move(*fd);
  }
};

TEST_F(ConsoleMuxTest, EachBootGetsItsOwnStampedLogAndAPowerCutReconnects) {
  std::string boot = boot_fixture();
  PlaybackPeer peer({{boot, boot.size() * 2 / 5}, {boot, std::nullopt}}, 300ms);
  serve(peer, {"--raw"});
  ASSERT_TRUE(testing::eventually(
      [&] {
        auto logs = testing::boot_logs(log_dir(), ".log");
        return logs.size() == 2 && testing::slurp(logs[1]).find("login: ") != std::string::npos;
      },
      kWait))
      << "expected two boot logs, the second up to the login prompt";
  auto logs = testing::boot_logs(log_dir(), ".log");
  EXPECT_NE(logs[0].filename().string().find("b1-"), std::string::npos);
  EXPECT_NE(logs[0].filename().string().find("-boot1.log"), std::string::npos);
  EXPECT_NE(logs[1].filename().string().find("-boot2.log"), std::string::npos);

  std::vector<std::string> first = unstamped_lines(testing::slurp(logs[0]));
  ASSERT_GE(first.size(), 3u);
  EXPECT_EQ(first.front(), "### rig console b1: connected to " + peer.address() + " (boot 1)");
  EXPECT_EQ(first.back(), "### rig console b1: the board closed the console connection");
  EXPECT_EQ(first[1], "SeaBIOS (version 1.16.2-debian-1.16.2-1)");

  std::string second_log = testing::slurp(logs[1]);
  EXPECT_EQ(second_log.find('\r'), std::string::npos) << "CRs belong in the .raw log only";
  EXPECT_EQ(second_log.find('\x1b'), std::string::npos) << "escapes belong in the .raw log only";
  std::vector<std::string> second = unstamped_lines(second_log);
  std::string text;
  for (std::size_t i = 1; i < second.size(); ++i)
    text += second[i] + "\n";
  EXPECT_NE(text.find("[  OK  ] Started systemd-journald.service - Journal Service.\n"),
            std::string::npos);
  EXPECT_NE(text.find("LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt-seccomp RESULT=fail\n"),
            std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 17), "qemu-x86 login: \n");

  auto raws = testing::boot_logs(log_dir(), ".raw");
  ASSERT_EQ(raws.size(), 2u);
  EXPECT_EQ(testing::slurp(raws[0]), boot.substr(0, boot.size() * 2 / 5));
  EXPECT_EQ(testing::slurp(raws[1]), boot);
  EXPECT_EQ(std::filesystem::read_symlink(log_dir() / "b1-current.log"), logs[1].filename());
}

TEST_F(ConsoleMuxTest, TwoReadersReceiveIdenticalStreamsAcrossAReconnect) {
  std::string boot = boot_fixture();
  PlaybackPeer peer({{boot, boot.size() / 2}, {boot, std::nullopt}}, 300ms, /*gated=*/true);
  serve(peer);
  UniqueFd a = reader(), b = reader();
  ASSERT_TRUE(testing::eventually([&] { return peer.connections() == 1; }, kWait));
  peer.release();
  std::string sa, sb;
  // The second boot's prompt comes after the reconnect notice.
  std::string end = "(boot 2)]\r\n" + boot;
  ASSERT_TRUE(testing::read_until(a.get(), sa, end, kWait)) << sa;
  ASSERT_TRUE(testing::read_until(b.get(), sb, end, kWait)) << sb;
  EXPECT_EQ(sa, sb);
  EXPECT_EQ(sa.find(boot.substr(0, boot.size() / 2)), 0u) << "the stream starts at attach time";
  EXPECT_NE(sa.find("[rig console b1: the board closed the console connection; reconnecting]"),
            std::string::npos);
}

TEST_F(ConsoleMuxTest, ExpectFindsBootMilestonesAndATimeoutShowsTheLastLines) {
  PlaybackPeer peer({{boot_fixture(), std::nullopt}}, 0ms, /*gated=*/true);
  serve(peer);
  ConsoleSession session(reader({0, true}), "b1");
  ASSERT_TRUE(testing::eventually([&] { return peer.connections() == 1; }, kWait));
  peer.release();
  ExpectMatch m = session.expect({R"(Linux version (\S+))", "Kernel panic"}, kWait);
  EXPECT_EQ(m.pattern, 0u);
  EXPECT_EQ(m.groups.at(0), "6.1.0-13-amd64");
  std::vector<std::string> results;
  const std::vector<std::string> test_patterns = {
      R"(LAVA_SIGNAL_TESTCASE TEST_CASE_ID=(\S+) RESULT=(\S+))", "LAVA_SIGNAL_ENDRUN"};
  for (;;) {
    m = session.expect(test_patterns, kWait);
    if (m.pattern == 1) break;
    results.push_back(m.groups.at(0) + "=" + m.groups.at(1));
  }
  EXPECT_EQ(results, (std::vector<std::string>{"ckpt-dump-restore=pass", "ckpt-threads=pass",
                                               "ckpt-seccomp=fail"}));
  m = session.expect({"login: $"}, kWait);
  EXPECT_NE(m.before.find("Debian GNU/Linux 12 qemu-x86 ttyS0"), std::string::npos);
  try {
    session.expect({"Welcome back"}, 300ms);
    FAIL() << "expected a timeout";
  } catch (const NetError& e) {
    EXPECT_EQ(e.kind(), NetError::kTimeout);
    std::string what = e.what();
    EXPECT_NE(what.find("/Welcome back/ on b1"), std::string::npos) << what;
    EXPECT_NE(what.find("| qemu-x86 login: "), std::string::npos) << what;
  }
}

TEST_F(ConsoleMuxTest, AReaderThatStopsReadingIsDroppedWithoutStallingOthersOrTheLog) {
  PlaybackPeer peer({{boot_fixture(), std::nullopt}}, 0ms);
  serve(peer, {"--reader-buffer", "1024"});
  UniqueFd stalled = reader();
  UniqueFd live = reader();
  int small = 4096;
  ::setsockopt(stalled.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::string seen;
  ASSERT_TRUE(testing::read_until(live.get(), seen, "login: ", kWait));
  ASSERT_TRUE(testing::eventually([&] { return peer.finished(); }, kWait));
  std::string flood;
  for (int i = 0; flood.size() < std::size_t{6} * 1024 * 1024; ++i) {
    flood += "[ 99.000000] flood line " + std::to_string(i) + " of kernel noise\r\n";
  }
  peer.print(flood + "FLOOD-END\r\n");
  ASSERT_TRUE(testing::read_until(live.get(), seen, "FLOOD-END\r\n", kWait))
      << "the live reader was stalled";
  ASSERT_TRUE(testing::eventually(
      [&] {
        auto logs = testing::boot_logs(log_dir(), ".log");
        return logs.size() == 1 && testing::slurp(logs[0]).find("FLOOD-END") != std::string::npos;
      },
      kWait))
      << "the log was stalled";
  std::string dropped = testing::read_to_end(stalled.get(), kWait);
  EXPECT_NE(dropped.find("[rig console b1: this reader fell 1024 KiB behind and was dropped; "
                         "attach again]"),
            std::string::npos)
      << dropped.substr(dropped.size() > 300 ? dropped.size() - 300 : 0);
  EXPECT_EQ(dropped.find("FLOOD-END"), std::string::npos);
}

TEST_F(ConsoleMuxTest, InputFromAReaderReachesTheBoardButNotFromAReadOnlyOne) {
  PlaybackPeer peer({{boot_fixture(), std::nullopt}}, 0ms);
  serve(peer);
  UniqueFd watcher = reader({0, true});
  UniqueFd typist = reader();
  std::string seen;
  ASSERT_TRUE(testing::read_until(typist.get(), seen, "login: ", kWait));
  const std::string ignored = "watcher-typed\r";
  write_all(watcher.get(),
            std::span(reinterpret_cast<const std::uint8_t*>(ignored.data()), ignored.size()),
            Deadline(kWait));
  const std::string typed = "root\r";
  write_all(typist.get(),
            std::span(reinterpret_cast<const std::uint8_t*>(typed.data()), typed.size()),
            Deadline(kWait));
  EXPECT_TRUE(peer.wait_input("root\r", kWait)) << "got: " << peer.input();
  EXPECT_EQ(peer.input().find("watcher-typed"), std::string::npos);
}

TEST_F(ConsoleMuxTest, LateReaderGetsTheBacklogAskedFor) {
  std::string boot = boot_fixture();
  PlaybackPeer peer({{boot, std::nullopt}}, 0ms);
  serve(peer);
  UniqueFd first = reader();
  std::string seen;
  ASSERT_TRUE(testing::read_until(first.get(), seen, "login: ", kWait));
  UniqueFd late = reader({100, false});
  std::string got;
  ASSERT_TRUE(testing::read_until(late.get(), got, "login: ", kWait));
  EXPECT_EQ(got, boot.substr(boot.size() - 100));
}

TEST_F(ConsoleMuxTest, BadHelloGetsAnErrorAndOthersKeepBeingServed) {
  PlaybackPeer peer({{boot_fixture(), std::nullopt}}, 0ms, /*gated=*/true);
  serve(peer);
  UniqueFd good = reader();
  UniqueFd raw(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr = unix_socket_address(socket());
  ASSERT_EQ(::connect(raw.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::write(raw.get(), "root\n", 5), 5);
  std::string answer = testing::read_to_end(raw.get(), kWait);
  EXPECT_NE(answer.find("expected a hello line starting with 'rig-console/1'"), std::string::npos)
      << answer;
  peer.release();
  std::string seen;
  EXPECT_TRUE(testing::read_until(good.get(), seen, "login: ", kWait));
}

}  // namespace
}  // namespace crossrig::rig::console
