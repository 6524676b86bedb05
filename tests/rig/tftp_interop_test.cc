// Interoperability: real TFTP clients from Debian (curl, atftp, tftp-hpa) download files of
// edge-case sizes from `rig tftp` on loopback; every download's SHA-256 must match.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/rig/tftp_harness.h"

namespace crossrig::rig::tftp::testing {
namespace {

namespace fs = std::filesystem;

const std::string kCurl = "/usr/bin/curl";
const std::string kAtftp = "/usr/bin/atftp";
const std::string kTftpHpa = "/usr/bin/tftp";

class TftpInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    require_tool(kCurl, "curl");
    require_tool(kAtftp, "atftp");
    require_tool(kTftpHpa, "tftp-hpa");
  }
  void SetUp() override { fs::create_directory(root()); }
  fs::path root() const { return dir_.path() / "root"; }
  fs::path out(const std::string& name) const { return dir_.path() / ("out-" + name); }

  fs::path make(const std::string& name, std::uint64_t size) {
    write_random(root() / name, size, static_cast<std::uint32_t>(size));
    return root() / name;
  }

  // Downloads name with argv (which writes to out(tag)) and compares checksums.
  void expect_download(const std::vector<std::string>& argv, const std::string& name,
                       const std::string& tag) {
    CommandResult r = run(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[0] << " failed for " << name << ": " << r.err << r.out;
    ASSERT_TRUE(fs::exists(out(tag))) << argv[0] << " wrote nothing for " << name;
    EXPECT_EQ(fs::file_size(out(tag)), fs::file_size(root() / name)) << argv[0] << " " << name;
    EXPECT_EQ(sha256_file(out(tag)), sha256_file(root() / name)) << argv[0] << " " << name;
  }

  std::vector<std::string> curl(const RigTftp& s, const std::string& name, int blksize,
                                const std::string& tag) {
    return {kCurl,
            "-sS",
            "--tftp-blksize",
            std::to_string(blksize),
            "-o",
            out(tag).string(),
            "tftp://127.0.0.1:" + std::to_string(s.port()) + "/" + name};
  }
  std::vector<std::string> atftp(const RigTftp& s, const std::string& name, int blksize,
                                 int windowsize, const std::string& tag) {
    return {kAtftp,
            "--option",
            "blksize " + std::to_string(blksize),
            "--option",
            "windowsize " + std::to_string(windowsize),
            "-g",
            "-r",
            name,
            "-l",
            out(tag).string(),
            "127.0.0.1",
            std::to_string(s.port())};
  }
  std::vector<std::string> tftp_hpa(const RigTftp& s, const std::string& name,
                                    const std::string& tag, const std::string& host = "127.0.0.1") {
    return {kTftpHpa, "-m", "binary",         host, std::to_string(s.port()), "-c",
            "get",    name, out(tag).string()};
  }

  TempDir dir_{"tftp-interop"};
};

TEST_F(TftpInterop, EdgeSizesWithEveryClient) {
  for (std::uint64_t size : {0, 1, 511, 512, 513})
    make("f" + std::to_string(size), size);
  RigTftp server(root());
  for (std::uint64_t size : {0, 1, 511, 512, 513}) {
    std::string name = "f" + std::to_string(size);
    expect_download(curl(server, name, 512, "curl" + name), name, "curl" + name);
    expect_download(atftp(server, name, 512, 4, "atftp" + name), name, "atftp" + name);
    expect_download(tftp_hpa(server, name, "hpa" + name), name, "hpa" + name);
  }
  auto log = server.wait_transfers(15, std::chrono::seconds(10));
  ASSERT_EQ(log.size(), 15u);
  for (const auto& line : log) {
    EXPECT_TRUE(line["ok"].get<bool>()) << line.dump();
    EXPECT_EQ(line["bytes"].get<std::uint64_t>(),
              fs::file_size(root() / line["file"].get<std::string>()));
  }
}

TEST_F(TftpInterop, BlockNumbersRollOverAt512ByteBlocks) {
  // 33 MiB at 512 bytes is 67585 blocks: the 16-bit block number wraps to 0 once.
  make("rollover", 33ull << 20);
  RigTftp server(root());
  expect_download(curl(server, "rollover", 512, "curl"), "rollover", "curl");
  expect_download(atftp(server, "rollover", 512, 16, "atftp"), "rollover", "atftp");
  expect_download(tftp_hpa(server, "rollover", "hpa"), "rollover", "hpa");
}

TEST_F(TftpInterop, Ipv6Loopback) {
  make("v6", 100000);
  RigTftp server(root(), {}, "[::1]:0");
  expect_download(tftp_hpa(server, "v6", "hpa", "::1"), "v6", "hpa");
  expect_download({kCurl, "-sS", "--tftp-blksize", "1468", "-o", out("curl").string(),
                   "tftp://[::1]:" + std::to_string(server.port()) + "/v6"},
                  "v6", "curl");
}

TEST_F(TftpInterop, MapFileSendsEachClientToItsBoardDirectory) {
  fs::create_directories(root() / "boards/cell");
  write_random(root() / "boards/cell/zImage", 4000, 1);
  std::ofstream(dir_.path() / "map") << "# loopback is the Cell blade\n"
                                        "127.0.0.1 ^ boards/cell/\n";
  RigTftp server(root(), {"--map", (dir_.path() / "map").string()});
  CommandResult r = run(curl(server, "zImage", 1468, "map"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sha256_file(out("map")), sha256_file(root() / "boards/cell/zImage"));
  auto log = server.wait_transfers(1, std::chrono::seconds(5));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["path"], "boards/cell/zImage");
}

// The big downloads of the issue: 64 MiB at blksize 1468 and 65464 (label nightly).
TEST_F(TftpInterop, Nightly64MiB) {
  make("big", 64ull << 20);
  RigTftp server(root());
  expect_download(curl(server, "big", 1468, "curl1468"), "big", "curl1468");
  expect_download(curl(server, "big", 65464, "curl65464"), "big", "curl65464");
  expect_download(atftp(server, "big", 1468, 16, "atftp1468"), "big", "atftp1468");
  expect_download(atftp(server, "big", 65464, 16, "atftp65464"), "big", "atftp65464");
}

}  // namespace
}  // namespace crossrig::rig::tftp::testing
