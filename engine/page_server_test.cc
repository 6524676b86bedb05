#include "engine/page_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/hex.h"
#include "common/test_pki.h"
#include "engine/ckpt_error.h"
#include "engine/image.h"
#include "engine/image_transfer.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_support::TempDir;

// A page server on a free loopback port, serving in a thread of the test.
class PageServerTest : public ::testing::Test {
 protected:
  TempDir tmp{"page-server-test"};
  test_pki::Ca ca{tmp.path(), "ca"};
  TlsConfig client_tls = ca.issue("client");
  fs::path root = tmp.path() / "root";
  std::unique_ptr<PageServer> server;
  std::thread thread;
  std::mutex m;
  std::vector<TransferReport> reports;

  void start(std::chrono::milliseconds timeout = 10s) {
    fs::create_directory(root);
    PageServerOptions o;
    o.listen = {"127.0.0.1", 0};
    o.dir = root.string();
    o.tls = ca.issue("server");
    o.timeout = timeout;
    server = std::make_unique<PageServer>(o);
    thread = std::thread([this] {
      server->run([this](const TransferReport& r) {
        std::lock_guard lock(m);
        reports.push_back(r);
      });
    });
  }
  void TearDown() override {
    if (server) server->stop();
    if (thread.joinable()) thread.join();
  }
  HostPort address() const { return {"127.0.0.1", server->port()}; }

  // Dumps a small image through the server: tree.json and files-data.img stay local too,
  // pages-1.img goes to the server only.
  std::string send_image(const std::string& name, const TlsConfig& tls) {
    ImageSender sender(address(), tls, name);
    ImageWriter w((tmp.path() / name).string(), &sender);
    w.write_json("tree.json", {{"root", 1}});
    PagesWriter data = w.open_pages("files-data.img");
    data.append(as_bytes("pipe bytes"));
    w.add_pages("files-data.img", data);
    PagesWriter pages = w.open_pages("pages-1.img", ImageWriter::Where::kPageServerOnly);
    EXPECT_LT(pages.fd(), 0);
    const std::vector<std::uint8_t> bytes(5 << 20, 0x3c);
    pages.append(bytes);
    w.add_pages("pages-1.img", pages);
    w.commit({{"arch", "x86_64"}});
    return sender.server();
  }

  // Waits until the server reported n connections.
  std::vector<TransferReport> wait_reports(std::size_t n) {
    for (int i = 0; i < 300; ++i) {
      {
        std::lock_guard lock(m);
        if (reports.size() >= n) return reports;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "the server reported fewer than " << n << " connections";
    std::lock_guard lock(m);
    return reports;
  }

  // Nothing but committed images in the root: no partial one left.
  void expect_only(const std::vector<std::string>& names) {
    std::vector<std::string> seen;
    for (const auto& e : fs::directory_iterator(root))
      seen.push_back(e.path().filename().string());
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, names);
  }
};

// A client that speaks raw frames over TLS, to misbehave.
struct RawClient {
  TlsContext ctx;
  TlsStream stream;
  RawClient(const TlsConfig& tls, const HostPort& server)
      : ctx(TlsContext::Role::kClient, tls),
        stream(ctx, connect_tcp(server, Deadline(5s)), "server", Deadline(5s)) {}
  void send(MessageType t, const nlohmann::json& j) {
    const std::string s = j.dump();
    stream.write_all(encode_message(t, as_bytes(s)), Deadline(5s));
  }
  void send_raw(std::span<const std::uint8_t> bytes) { stream.write_all(bytes, Deadline(5s)); }
  // The type of the server's next message.
  MessageType reply() {
    std::array<std::uint8_t, kHeaderSize> h;
    stream.read_exact(h, Deadline(5s));
    const auto [type, len] = decode_header(h);
    std::vector<std::uint8_t> payload(len);
    stream.read_exact(payload, Deadline(5s));
    return type;
  }
  void begin(const std::string& name) {
    send(MessageType::kHello, {{"protocol", kTransferProtocol}});
    EXPECT_EQ(reply(), MessageType::kReady);
    send(MessageType::kBegin, {{"name", name}, {"format_version", kImageFormatVersion}});
  }
};

TEST_F(PageServerTest, ImageArrivesWholeAndTheLocalCopyIsItsMetadata) {
  start();
  send_image("img", client_tls);
  const auto r = wait_reports(1);
  ASSERT_TRUE(r[0].committed) << r[0].error;
  EXPECT_EQ(r[0].subject, "/CN=client");
  EXPECT_EQ(r[0].path, (root / "img").string());
  expect_only({"img"});
  ImageReader remote((root / "img").string());
  EXPECT_EQ(remote.data("pages-1.img").size(), 5u << 20);
  const fs::path local = tmp.path() / "img";
  EXPECT_FALSE(fs::exists(local / "pages-1.img"));
  for (const char* f : {"tree.json", "files-data.img", "inventory.json"}) {
    std::ifstream a(local / f), b(root / "img" / f);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}),
              std::string(std::istreambuf_iterator<char>(b), {}))
        << f;
  }
  ImageReader metadata(local.string(), ImageReader::Contents::kMetadataOnly);
  EXPECT_EQ(metadata.json("tree.json")["root"], 1);
  try {
    ImageReader whole(local.string());
    ADD_FAILURE() << "restore would accept an image without its pages";
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("restore from the server's copy"), std::string::npos)
        << e.what();
  }
}

TEST_F(PageServerTest, ClientOfAnotherCaIsRefusedAndOthersAreServed) {
  start();
  test_pki::Ca other(tmp.path(), "other");
  TlsConfig stranger = other.issue("stranger");
  stranger.cacert = ca.cacert();
  try {
    send_image("stranger", stranger);
    ADD_FAILURE() << "a client of another CA got its image in";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kSystem);
    EXPECT_NE(std::string(e.what()).find("--tls-cert"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "stranger")) << "a failed dump left a local image";
  send_image("img", client_tls);
  const auto r = wait_reports(2);
  EXPECT_FALSE(r[0].committed);
  EXPECT_NE(r[0].error.find("certificate"), std::string::npos) << r[0].error;
  EXPECT_TRUE(r[1].committed) << r[1].error;
  expect_only({"img"});
}

TEST_F(PageServerTest, BadClientsAreDroppedWithNothingKept) {
  start(2s);
  {
    // Not TLS at all.
    UniqueFd fd = connect_tcp(address(), Deadline(5s));
    const std::string junk = "GET / HTTP/1.0\r\n\r\n";
    ::send(fd.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
  }
  {
    RawClient c(client_tls, address());
    const std::vector<std::uint8_t> unknown = {77, 0, 0, 0, 0};
    c.send_raw(unknown);
  }
  {
    RawClient c(client_tls, address());
    c.begin("oversized");
    EXPECT_EQ(c.reply(), MessageType::kReady);
    const std::vector<std::uint8_t> huge = {static_cast<std::uint8_t>(MessageType::kFile), 0x7f, 0,
                                            0, 0};
    c.send_raw(huge);
  }
  {
    RawClient c(client_tls, address());
    c.begin("truncated");
    EXPECT_EQ(c.reply(), MessageType::kReady);
    c.send(MessageType::kFile, {{"name", "pages-1.img"}, {"algo", "xxh3"}});
    const std::vector<std::uint8_t> bytes(1000, 1);
    c.send_raw(encode_message(MessageType::kData, bytes));
    // A frame cut short, then the connection closes.
    const std::vector<std::uint8_t> frame = encode_message(MessageType::kData, bytes);
    c.send_raw(std::span(frame).first(500));
  }
  {
    RawClient c(client_tls, address());
    c.begin("../escape");
    EXPECT_EQ(c.reply(), MessageType::kError);
  }
  const auto r = wait_reports(5);
  for (const TransferReport& t : r) {
    EXPECT_FALSE(t.committed);
    EXPECT_FALSE(t.error.empty());
  }
  std::string all;
  for (const TransferReport& t : r)
    all += t.error + "\n";
  EXPECT_NE(all.find("unknown message type 77"), std::string::npos) << all;
  EXPECT_NE(all.find("more than the limit"), std::string::npos) << all;
  EXPECT_NE(all.find("not a plain name"), std::string::npos) << all;
  expect_only({});
  EXPECT_FALSE(fs::exists(tmp.path() / "escape"));
}

TEST_F(PageServerTest, SilentClientTimesOutWhileOthersAreServed) {
  start(3s);
  RawClient silent(client_tls, address());
  silent.begin("silent");
  EXPECT_EQ(silent.reply(), MessageType::kReady);
  UniqueFd no_handshake = connect_tcp(address(), Deadline(5s));
  const auto start_time = std::chrono::steady_clock::now();
  send_image("img", client_tls);
  EXPECT_LT(std::chrono::steady_clock::now() - start_time, 3s) << "a silent client held others up";
  auto r = wait_reports(1);
  EXPECT_TRUE(r[0].committed) << r[0].error;
  r = wait_reports(3);
  int timeouts = 0;
  for (const TransferReport& t : r)
    timeouts += t.error.find("timed out") != std::string::npos;
  EXPECT_EQ(timeouts, 2);
  expect_only({"img"});
}

TEST_F(PageServerTest, ServerGoneFailsTheDumpAndLeavesNoLocalImage) {
  start(1s);
  ImageSender sender(address(), client_tls, "img");
  const fs::path local = tmp.path() / "img";
  try {
    ImageWriter w(local.string(), &sender);
    w.write_json("tree.json", {{"root", 1}});
    server->stop();
    thread.join();
    PagesWriter pages = w.open_pages("pages-1.img", ImageWriter::Where::kPageServerOnly);
    const std::vector<std::uint8_t> bytes(8 << 20, 1);
    for (int i = 0; i < 64; ++i)
      pages.append(bytes);
    w.add_pages("pages-1.img", pages);
    w.commit({{"arch", "x86_64"}});
    ADD_FAILURE() << "a dump to a stopped server succeeded";
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("page server 127.0.0.1:"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(local));
  for (const auto& e : fs::directory_iterator(tmp.path()))
    EXPECT_EQ(e.path().filename().string().find("img.tmp"), std::string::npos);
}

}  // namespace
}  // namespace crossrig::engine
