// `rig console serve` in front of a real QEMU board (x86_64 with OVMF firmware, whose serial
// console prints ANSI escapes and CR LF) that is power-cycled: QEMU exits and starts again.
// Label nightly: a firmware boot under TCG takes tens of seconds on a loaded machine.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <filesystem>

#include "common/net_io.h"
#include "rig/console/console_client.h"
#include "rig/console/console_session.h"
#include "tests/rig/console_harness.h"

namespace crossrig::rig::console {
namespace {

using namespace std::chrono_literals;
using testing::Child;

constexpr const char* kQemu = "/usr/bin/qemu-system-x86_64";
constexpr const char* kFirmware = "/usr/share/qemu/OVMF.fd";
constexpr auto kBoot = 180s;

std::uint16_t free_loopback_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("cannot find a free loopback port");
  }
  return ntohs(addr.sin_port);
}

std::vector<std::string> qemu_args(std::uint16_t port) {
  return {kQemu,
          "-machine",
          "accel=tcg",
          "-m",
          "256",
          "-display",
          "none",
          "-bios",
          kFirmware,
          "-serial",
          "tcp:127.0.0.1:" + std::to_string(port) + ",server=on,wait=off",
          "-monitor",
          "none",
          "-net",
          "none"};
}

TEST(ConsoleQemuTest, UefiShellThroughTheMultiplexerAcrossAPowerCycle) {
  ASSERT_TRUE(std::filesystem::exists(kQemu) && std::filesystem::exists(kFirmware))
      << "needs QEMU and OVMF: apt-get install qemu-system-x86 ovmf (scripts/setup does)";
  testing::TempDir dir;
  std::uint16_t port = free_loopback_port();
  std::vector<std::string> env = {"CROSSRIG_RUNTIME_DIR=" + (dir.path() / "run").string()};
  auto socket = dir.path() / "run/console/qemu-x86.sock";
  auto logs = dir.path() / "logs";
  Child serve(
      {testing::rig_binary(), "console", "serve", "qemu-x86", "--address",
       "127.0.0.1:" + std::to_string(port), "--log-dir", logs.string(), "--max-backoff", "0.2"},
      env);
  ASSERT_TRUE(testing::eventually([&] { return std::filesystem::exists(socket); }, testing::kWait));
  auto fd = connect_mux(socket, Hello{});
  ASSERT_TRUE(fd);
  ConsoleSession session(std::move(*fd), "qemu-x86");

  std::optional<Child> board(std::in_place, qemu_args(port), std::vector<std::string>{});
  session.expect({"UEFI Interactive Shell"}, kBoot);
  session.expect({"Shell> "}, kBoot);
  session.send("echo hello-from-rig\r");
  EXPECT_EQ(session.expect({"^hello-from-rig"}, kBoot).text, "hello-from-rig");

  // Power cycle: the board's QEMU goes away and a new one serves the same port.
  board.reset();
  session.expect({"the board closed the console connection; reconnecting"}, testing::kWait);
  board.emplace(qemu_args(port), std::vector<std::string>{});
  ExpectMatch m = session.expect({R"(connected to 127\.0\.0\.1:\d+ \(boot (\d+)\))"}, kBoot);
  EXPECT_EQ(m.groups.at(0), "2");
  session.expect({"Shell> "}, kBoot);

  auto boot_logs = testing::boot_logs(logs, ".log");
  ASSERT_EQ(boot_logs.size(), 2u);
  std::string first = testing::slurp(boot_logs[0]);
  EXPECT_NE(first.find(" UEFI Interactive Shell v"), std::string::npos) << first;
  EXPECT_NE(first.find(" hello-from-rig\n"), std::string::npos) << first;
  EXPECT_EQ(first.find('\x1b'), std::string::npos) << "escapes belong in the .raw log only";
  EXPECT_NE(testing::slurp(boot_logs[1]).find("Shell> "), std::string::npos);
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(testing::kWait), 0);
}

}  // namespace
}  // namespace crossrig::rig::console
