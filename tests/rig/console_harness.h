#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/child_process.h"
#include "tests/support/temp_dir.h"

namespace crossrig::rig::console::testing {

/// How long a test waits for anything before it fails (generous: CI machines are shared).
inline constexpr std::chrono::seconds kWait{30};

/// The rig binary of this build.
std::string rig_binary();

/// The recorded x86_64 boot (firmware, GRUB, kernel, systemd, LAVA signals, login prompt) as
/// the serial line carries it: CR LF line ends, escapes included.
std::string boot_fixture();

using test_support::TempDir;

/// A child process running a program; killed with SIGKILL if still running when destroyed,
/// and sent SIGTERM if the test process dies. The process helper is the benchmarks' own.
class Child : public bench::ChildProcess {
 public:
  /// Starts args[0] with args; env entries "NAME=value" are added to the environment.
  /// stdio_fd >= 0 becomes its stdin, stdout and stderr (a pty or a pipe).
  Child(const std::vector<std::string>& args, const std::vector<std::string>& env,
        int stdio_fd = -1);
};

/// A test running `rig console serve` for board b1 against a peer, with its runtime and log
/// directories in a temporary directory; on tear-down it checks that SIGTERM stops it
/// cleanly and that the socket goes away.
class ConsoleServeTest : public ::testing::Test {
 protected:
  /// The environment every rig process of the test gets (its runtime directory).
  std::vector<std::string> env() const;
  /// The multiplexer's socket.
  std::filesystem::path socket() const;
  /// Where the boot logs go.
  std::filesystem::path log_dir() const;
  /// Starts the multiplexer against peer_address with extra options; waits for its socket.
  void serve(const std::string& peer_address, const std::vector<std::string>& extra = {});
  void TearDown() override;

  TempDir dir_;
  std::optional<Child> serve_;
};

/// Reads fd into so_far until it contains text; false after the timeout or at EOF.
bool read_until(int fd, std::string& so_far, const std::string& text,
                std::chrono::milliseconds timeout);

/// Reads fd until EOF or the timeout; what was read.
std::string read_to_end(int fd, std::chrono::milliseconds timeout);

/// Waits until check() is true; false after the timeout.
template <typename F>
bool eventually(F check, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!check()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// The boot logs (ext ".log" or ".raw") in a log directory, oldest boot first.
std::vector<std::filesystem::path> boot_logs(const std::filesystem::path& dir, const char* ext);

/// The whole content of a file ("" if missing).
std::string slurp(const std::filesystem::path& p);

}  // namespace crossrig::rig::console::testing
