#include "engine/receive.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

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

// A destination on a free loopback port, serving one migration in a thread of the test.
// The migrations here fail before any process is made: what one restores is the business of
// tests/ckpt/migrate_driver.cc.
class ReceiveTest : public ::testing::Test {
 protected:
  TempDir tmp{"receive-test"};
  test_pki::Ca ca{tmp.path(), "ca"};
  fs::path root = tmp.path() / "incoming";
  std::unique_ptr<Receiver> receiver;
  std::mutex m;
  std::vector<std::string> refused;

  std::future<ReceiveResult> start() {
    ReceiveOptions o;
    o.listen = {"127.0.0.1", 0};
    o.dir = root.string();
    o.tls = ca.issue("destination");
    o.timeout = 5s;
    receiver = std::make_unique<Receiver>(o);
    return std::async(std::launch::async, [this] {
      return receiver->run([this](const std::string&, const std::string& why) {
        std::lock_guard lock(m);
        refused.push_back(why);
      });
    });
  }
  HostPort address() const { return {"127.0.0.1", receiver->port()}; }
  std::unique_ptr<ImageSender> connect(const TlsConfig& tls) {
    return std::make_unique<ImageSender>(address(), tls, ServerRole{"destination", "start it"});
  }

  // Sends a small image (not one a process could be restored from) named name.
  void send_image(ImageSender& sender, const std::string& name) {
    sender.begin(name);
    fs::create_directories(tmp.path() / "source");
    ImageWriter w((tmp.path() / "source" / name).string(), &sender);
    w.write_json("tree.json", {{"root", 1}});
    PagesWriter pages = w.open_pages("pages-1.img", ImageWriter::Where::kPageServerOnly);
    pages.append(std::vector<std::uint8_t>(1 << 20, 0x5a));
    w.add_pages("pages-1.img", pages);
    w.commit({{"arch", "x86_64"}, {"root_pid", 1}});
  }

  static std::vector<std::uint8_t> restore_request(const std::string& image) {
    const std::string text = nlohmann::json{{"image", image}, {"lazy", false}}.dump();
    return {text.begin(), text.end()};
  }
};

TEST_F(ReceiveTest, ClientOfAnotherCaIsRefusedAndTheMigrationStillComes) {
  std::future<ReceiveResult> result = start();
  test_pki::Ca other(tmp.path(), "other");
  TlsConfig stranger = other.issue("stranger");
  stranger.cacert = ca.cacert();
  EXPECT_THROW(connect(stranger), CkptError);
  ASSERT_EQ(result.wait_for(300ms), std::future_status::timeout)
      << "a refused client ended the wait for the migration";
  auto sender = connect(ca.issue("source"));
  send_image(*sender, "pre-1");
  EXPECT_TRUE(fs::exists(root / "pre-1" / "pages-1.img"));
  // The image is no restorable tree: the destination says why, and the source learns it.
  const std::vector<std::uint8_t> ask = restore_request("pre-1");
  sender->tell(MessageType::kRestore, ask, "asking it to restore");
  try {
    sender->await(MessageType::kRestored, 10s, "restoring");
    ADD_FAILURE() << "a tree without processes was reported restored";
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("destination 127.0.0.1"), std::string::npos) << e.what();
  }
  const ReceiveResult r = result.get();
  EXPECT_FALSE(r.migrated);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.subject, "/CN=source");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].find("certificate"), std::string::npos) << refused[0];
  EXPECT_TRUE(fs::is_empty(root)) << "a failed migration left its images";
}

TEST_F(ReceiveTest, RestoreOfAnImageNotReceivedFailsAndRemovesTheRest) {
  std::future<ReceiveResult> result = start();
  auto sender = connect(ca.issue("source"));
  send_image(*sender, "pre-1");
  send_image(*sender, "pre-2");
  const std::vector<std::uint8_t> ask = restore_request("dump");
  sender->tell(MessageType::kRestore, ask, "asking it to restore");
  EXPECT_THROW(sender->await(MessageType::kRestored, 10s, "restoring"), CkptError);
  const ReceiveResult r = result.get();
  EXPECT_FALSE(r.migrated);
  EXPECT_NE(r.error.find("not received"), std::string::npos) << r.error;
  EXPECT_EQ(r.images.size(), 2u);
  EXPECT_TRUE(fs::is_empty(root));
}

TEST_F(ReceiveTest, SourceGoneMidImageLeavesNothing) {
  std::future<ReceiveResult> result = start();
  {
    auto sender = connect(ca.issue("source"));
    send_image(*sender, "pre-1");
    sender->begin("pre-2");
    sender->begin_file("pages-1.img", "xxh3");
    sender->write(std::vector<std::uint8_t>(3 << 20, 1));
  }
  const ReceiveResult r = result.get();
  EXPECT_FALSE(r.migrated);
  EXPECT_TRUE(fs::is_empty(root));
}

}  // namespace
}  // namespace crossrig::engine
