#include "rig/tftp/tftp_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/unique_fd.h"
#include "rig/tftp/tftp_client.h"

namespace crossrig::rig::tftp {
namespace {

namespace fs = std::filesystem;

// A server on a free loopback port, serving a temporary root, recording its log.
class TftpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tftp_server_test." + std::to_string(getpid()));
    fs::create_directories(root_);
    content_.resize(300000);
    for (std::size_t i = 0; i < content_.size(); ++i)
      content_[i] = std::uint8_t(i * 7 + i / 251);
    std::ofstream(root_ / "blob", std::ios::binary)
        .write(reinterpret_cast<const char*>(content_.data()), std::streamsize(content_.size()));
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }
  void serve(const std::string& host = "127.0.0.1", MapRules map = {}, unsigned threads = 0) {
    ServerConfig c;
    c.root = root_;
    c.listen = {crossrig::HostPort{host, 0}};
    c.map = std::move(map);
    c.threads = threads;
    c.on_transfer = [this](const TransferRecord& r) {
      std::lock_guard lock(mutex_);
      log_.push_back(r);
      log_threads_.push_back(std::this_thread::get_id());
    };
    server_ = std::make_unique<Server>(std::move(c));
    address_ = server_->local_addresses().at(0);
    server_->start();
  }
  // The log once at least `expected` transfers ended (a client is done before the server has
  // read its last ACK), then the server stopped.
  std::vector<TransferRecord> log(std::size_t expected = 0) {
    for (int i = 0; i < 2000; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (log_.size() >= expected) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server_->stop();
    return log_;
  }

  fs::path root_;
  std::vector<std::uint8_t> content_;
  std::unique_ptr<Server> server_;
  crossrig::SocketAddress address_;
  std::mutex mutex_;
  std::vector<TransferRecord> log_;
  std::vector<std::thread::id> log_threads_;  // the thread that logged each record
};

TEST_F(TftpServer, ServesLockstepAndWindowedTransfers) {
  serve();
  FetchOptions plain;
  auto a = fetch(address_, "blob", plain);
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.data, content_);
  FetchOptions windowed;
  windowed.blksize = 1468;
  windowed.windowsize = 16;
  windowed.tsize = true;
  auto b = fetch(address_, "/blob", windowed);
  ASSERT_TRUE(b.ok) << b.error;
  EXPECT_EQ(b.data, content_);
  EXPECT_EQ(b.oack,
            (std::vector<Option>{{"blksize", "1468"}, {"tsize", "300000"}, {"windowsize", "16"}}));
  auto records = log(2);
  ASSERT_EQ(records.size(), 2u);
  // Loops log in the order they finish, which need not be the order of the downloads.
  const TransferRecord& windowed_record = records[0].file == "/blob" ? records[0] : records[1];
  EXPECT_TRUE(windowed_record.ok);
  EXPECT_EQ(windowed_record.bytes, 300000u);
  EXPECT_EQ(windowed_record.file, "/blob");
  EXPECT_EQ(windowed_record.path, "blob");
}

TEST_F(TftpServer, ServesEmptyFilesAndWholeBlocks) {
  std::ofstream(root_ / "empty").flush();
  std::ofstream(root_ / "1024", std::ios::binary) << std::string(1024, 'z');
  serve();
  for (std::uint16_t window : {0, 4}) {
    FetchOptions o;
    o.windowsize = window;
    auto empty = fetch(address_, "empty", o);
    ASSERT_TRUE(empty.ok) << empty.error;
    EXPECT_TRUE(empty.data.empty());
    auto whole = fetch(address_, "1024", o);
    ASSERT_TRUE(whole.ok) << whole.error;
    EXPECT_EQ(whole.data, std::vector<std::uint8_t>(1024, 'z'));
  }
}

TEST_F(TftpServer, ServesIpv6) {
  serve("::1");
  auto r = fetch(address_, "blob", {});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.data, content_);
}

TEST_F(TftpServer, RefusesWritesEscapesAndMissingFiles) {
  serve();
  auto escape = fetch(address_, "../etc/passwd", {});
  EXPECT_EQ(escape.code, ErrorCode::kAccessViolation);
  EXPECT_EQ(escape.error, "access denied: file name contains '..'");
  auto missing = fetch(address_, "nothing", {});
  EXPECT_EQ(missing.code, ErrorCode::kFileNotFound);
  EXPECT_TRUE(fetch(address_, "blob", {}).ok);
  auto records = log(3);
  ASSERT_EQ(records.size(), 3u);
  auto escaped = std::find_if(records.begin(), records.end(),
                              [](const auto& r) { return r.file == "../etc/passwd"; });
  ASSERT_NE(escaped, records.end());
  EXPECT_FALSE(escaped->ok);
  EXPECT_EQ(escaped->error, "access denied: file name contains '..'");
}

TEST_F(TftpServer, MapRulesRewriteAndRefuse) {
  fs::create_directories(root_ / "boards/b1");
  fs::copy_file(root_ / "blob", root_ / "boards/b1/kernel");
  serve("127.0.0.1", MapRules::parse("127.0.0.1 ^ boards/b1/\n* ^blob$ -\n", "map"));
  auto r = fetch(address_, "kernel", {});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.data, content_);
  auto records = log(1);
  EXPECT_EQ(records.at(0).path, "boards/b1/kernel");
}

TEST_F(TftpServer, StopEndsRunningTransfersAndReturns) {
  serve();
  server_->stop();
  auto records = log();
  EXPECT_TRUE(records.empty());
}

TEST_F(TftpServer, StalledClientHoldsNoOneUpAndTransfersSpreadOverThreads) {
  serve("127.0.0.1", {}, 2);
  // A client that asks, gets its first block and never acknowledges it.
  crossrig::UniqueFd stalled(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto request = encode(Request{Opcode::kRrq, "blob", "octet", {}});
  ASSERT_EQ(
      sendto(stalled.get(), request.data(), request.size(), 0, address_.get(), address_.length),
      static_cast<ssize_t>(request.size()));
  std::vector<std::uint8_t> block(600);
  ASSERT_EQ(recv(stalled.get(), block.data(), block.size(), 0), 516) << "first DATA block";

  auto first = fetch(address_, "blob", {});
  ASSERT_TRUE(first.ok) << first.error;
  std::vector<FetchResult> results(8);
  std::vector<std::thread> clients;
  for (auto& r : results) {
    clients.emplace_back([&r, this] {
      FetchOptions o;
      o.blksize = 1468;
      o.windowsize = 4;
      r = fetch(address_, "blob", o);
    });
  }
  for (auto& c : clients)
    c.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.data, content_);
  }
  auto records = log(9);
  ASSERT_EQ(records.size(), 10u) << "nine downloads and the stalled one, ended by stop()";
  EXPECT_EQ(records.back().error, "server stopped");
  std::size_t on_other_thread = 0;
  for (std::size_t i = 0; i + 1 < records.size(); ++i) {
    EXPECT_TRUE(records[i].ok) << records[i].error;
    on_other_thread += log_threads_[i] != log_threads_.back();
  }
  EXPECT_GT(on_other_thread, 0u) << "the download after the stalled one went to the idle loop";
}

}  // namespace
}  // namespace crossrig::rig::tftp
