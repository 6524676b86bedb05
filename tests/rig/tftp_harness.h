#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/harness/child_process.h"
#include "common/host_port.h"
#include "tests/support/temp_dir.h"

namespace crossrig::rig::tftp::testing {

/// What a finished command did.
struct CommandResult {
  int exit_code = -1;  ///< 128+signal when killed.
  std::string out, err;
};

/// Runs argv to completion (killed after limit), capturing stdout and stderr.
CommandResult run(const std::vector<std::string>& argv,
                  std::chrono::seconds limit = std::chrono::seconds(120));

/// The `rig` binary of this build.
std::string rig_binary();

/// Fails with a message naming the Debian package when a client tool is missing.
void require_tool(const std::string& path, const std::string& package);

/// Writes size pseudo-random bytes (seeded) to path.
void write_random(const std::filesystem::path& path, std::uint64_t size, std::uint32_t seed);

/// Hex SHA-256 of a file's contents.
std::string sha256_file(const std::filesystem::path& path);
/// Hex SHA-256 of bytes.
std::string sha256(const std::vector<std::uint8_t>& bytes);

/// Test trees live in /dev/shm so that 64 MiB files cost no disk I/O.
struct TempDir : test_support::TempDir {
  explicit TempDir(const std::string& stem) : test_support::TempDir(stem, "/dev/shm") {}
};

/// A `rig tftp --json` process on a free loopback port, stopped with SIGTERM when destroyed.
class RigTftp {
 public:
  RigTftp(const std::filesystem::path& root, std::vector<std::string> extra_args = {},
          const std::string& listen = "127.0.0.1:0");
  ~RigTftp();
  RigTftp(const RigTftp&) = delete;
  RigTftp& operator=(const RigTftp&) = delete;

  std::uint16_t port() const { return port_; }
  /// The listening address, ready for rig::tftp::fetch.
  crossrig::SocketAddress address() const { return address_; }
  /// The transfer log lines printed so far, parsed.
  std::vector<nlohmann::json> transfers() const;
  /// Waits until at least count transfer lines were printed (up to limit).
  std::vector<nlohmann::json> wait_transfers(std::size_t count, std::chrono::seconds limit) const;
  /// True while the process runs.
  bool running() const;
  /// Sends SIGTERM and returns the exit code.
  int stop();

 private:
  std::filesystem::path log_;
  std::optional<bench::ChildProcess> process_;
  std::uint16_t port_ = 0;
  crossrig::SocketAddress address_;
};

}  // namespace crossrig::rig::tftp::testing
