// The `rig tftp` command line: help, exit codes, log lines.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>

#include "common/unique_fd.h"
#include "rig/tftp/tftp_client.h"
#include "tests/rig/tftp_harness.h"

namespace crossrig::rig::tftp::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

TEST(TftpCli, HelpDocumentsUsageMapFormatAndExitCodes) {
  auto r = run({rig_binary(), "tftp", "--help"});
  EXPECT_EQ(r.exit_code, kOk);
  EXPECT_NE(r.out.find("--root"), std::string::npos);
  EXPECT_NE(r.out.find("CLIENT  PATTERN  REPLACEMENT"), std::string::npos);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  auto top = run({rig_binary(), "--help"});
  EXPECT_EQ(top.exit_code, kOk);
  EXPECT_NE(top.out.find("tftp"), std::string::npos);
}

TEST(TftpCli, UsageErrorsExitTwoWithAMessage) {
  TempDir dir("tftp-cli");
  auto no_root = run({rig_binary(), "tftp", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(no_root.exit_code, kUsage);
  EXPECT_NE(no_root.err.find("--root DIR is required"), std::string::npos);
  auto missing = run({rig_binary(), "tftp", "--root", (dir.path() / "nope").string()});
  EXPECT_EQ(missing.exit_code, kUsage);
  EXPECT_NE(missing.err.find("is not a directory"), std::string::npos);
  std::ofstream(dir.path() / "map") << "* ( x\n";
  auto bad_map = run({rig_binary(), "tftp", "--root", dir.path().string(), "--map",
                      (dir.path() / "map").string()});
  EXPECT_EQ(bad_map.exit_code, kUsage);
  EXPECT_NE(bad_map.err.find("map:1: pattern '('"), std::string::npos) << bad_map.err;
  auto bad_option = run({rig_binary(), "tftp", "--frob"});
  EXPECT_EQ(bad_option.exit_code, kUsage);
}

TEST(TftpCli, TakenPortExitsOne) {
  TempDir dir("tftp-cli");
  RigTftp first(dir.path());
  auto r = run({rig_binary(), "tftp", "--root", dir.path().string(), "--listen",
                "127.0.0.1:" + std::to_string(first.port())});
  EXPECT_EQ(r.exit_code, kFailed);
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << r.err;
}

TEST(TftpCli, JsonLogLineAndCleanStopOnSigterm) {
  TempDir dir("tftp-cli");
  write_random(dir.path() / "k", 3000, 3);
  RigTftp server(dir.path());
  FetchOptions o;
  o.blksize = 1468;
  o.tsize = true;
  ASSERT_TRUE(fetch(server.address(), "k", o).ok);
  auto log = server.wait_transfers(1, std::chrono::seconds(5));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["file"], "k");
  EXPECT_EQ(log[0]["bytes"], 3000);
  EXPECT_EQ(log[0]["options"]["blksize"], "1468");
  EXPECT_EQ(log[0]["options"]["tsize"], "3000");
  EXPECT_TRUE(log[0]["ok"].get<bool>());
  EXPECT_TRUE(log[0].contains("seconds"));
  EXPECT_TRUE(log[0].contains("mb_per_s"));
  EXPECT_EQ(server.stop(), kOk);
}

}  // namespace
}  // namespace crossrig::rig::tftp::testing
