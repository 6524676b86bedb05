#include "common/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <future>
#include <thread>

#include "common/test_pki.h"
#include "tests/support/temp_dir.h"

namespace crossrig {
namespace {

using namespace std::chrono_literals;
using test_support::TempDir;

// A TCP listener on a free loopback port.
struct Listener {
  UniqueFd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  std::uint16_t port = 0;
  Listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd.get(), 8) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port = ntohs(a.sin_port);
  }
  UniqueFd accept() const { return UniqueFd(::accept4(fd.get(), nullptr, nullptr, SOCK_CLOEXEC)); }
  UniqueFd connect() const { return connect_tcp({"127.0.0.1", port}, Deadline(2s)); }
};

class TlsTest : public ::testing::Test {
 protected:
  TempDir dir{"tls-test"};
  test_pki::Ca ca{dir.path(), "ca"};
  TlsConfig server_config = ca.issue("server");
  TlsConfig client_config = ca.issue("client");
  Listener listener;

  // Accepts one connection and handshakes as the server, in another thread.
  std::future<TlsStream> serve(const TlsContext& ctx, std::chrono::milliseconds budget = 5s) {
    return std::async(std::launch::async, [this, &ctx, budget] {
      return TlsStream(ctx, listener.accept(), "client", Deadline(budget));
    });
  }
};

// Expects f to throw a NetError of kind with what in its message.
template <typename F>
void expect_net_error(F f, NetError::Kind kind, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no NetError (expected one saying " << what << ")";
  } catch (const NetError& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST_F(TlsTest, BothEndsWithCertificatesOfTheCaTalk) {
  TlsContext server_ctx(TlsContext::Role::kServer, server_config);
  TlsContext client_ctx(TlsContext::Role::kClient, client_config);
  auto server = serve(server_ctx);
  TlsStream client(client_ctx, listener.connect(), "server", Deadline(5s));
  TlsStream accepted = server.get();
  EXPECT_EQ(accepted.peer_subject(), "/CN=client");
  EXPECT_EQ(client.peer_subject(), "/CN=server");
  const std::vector<std::uint8_t> sent(300000, 0x5a);
  auto writer = std::async(std::launch::async, [&] { client.write_all(sent, Deadline(5s)); });
  std::vector<std::uint8_t> got(sent.size());
  accepted.read_exact(got, Deadline(5s));
  writer.get();
  EXPECT_EQ(got, sent);
  client.close_notify(Deadline(1s));
  std::uint8_t byte;
  EXPECT_EQ(accepted.read_some({&byte, 1}, Deadline(1s)), 0u);
}

TEST_F(TlsTest, ClientOfAnotherCaIsRefused) {
  test_pki::Ca other(dir.path(), "other");
  TlsConfig stranger = other.issue("stranger");
  stranger.cacert = ca.cacert();  // It trusts our CA but holds a certificate of another.
  TlsContext server_ctx(TlsContext::Role::kServer, server_config);
  TlsContext client_ctx(TlsContext::Role::kClient, stranger);
  auto server = serve(server_ctx);
  // In TLS 1.3 the client's handshake ends before the server checks its certificate: the
  // refusal reaches the client as an alert on its first read.
  TlsStream client(client_ctx, listener.connect(), "server", Deadline(5s));
  expect_net_error([&] { server.get(); }, NetError::kAuth, "certificate was refused");
  std::uint8_t byte;
  expect_net_error([&] { client.read_some({&byte, 1}, Deadline(5s)); }, NetError::kAuth, "alert");
}

TEST_F(TlsTest, ClientWithoutCertificateIsRefused) {
  TlsContext server_ctx(TlsContext::Role::kServer, server_config);
  auto server = serve(server_ctx);
  // A plain OpenSSL client that trusts the CA but presents no certificate.
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_file(ctx, ca.cacert().c_str()), 1);
  SSL* ssl = SSL_new(ctx);
  UniqueFd fd = listener.connect();
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  SSL_set_fd(ssl, fd.get());
  EXPECT_EQ(SSL_connect(ssl), 1);
  expect_net_error([&] { server.get(); }, NetError::kAuth, "certificate");
  char byte;
  EXPECT_LE(SSL_read(ssl, &byte, 1), 0);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
}

TEST_F(TlsTest, ServerOfAnotherCaIsRefusedByTheClient) {
  test_pki::Ca other(dir.path(), "other");
  TlsConfig impostor = other.issue("impostor");
  impostor.cacert = ca.cacert();
  TlsContext server_ctx(TlsContext::Role::kServer, impostor);
  TlsContext client_ctx(TlsContext::Role::kClient, client_config);
  auto server = serve(server_ctx);
  expect_net_error([&] { TlsStream(client_ctx, listener.connect(), "server", Deadline(5s)); },
                   NetError::kAuth, "unable to get local issuer certificate");
  EXPECT_THROW(server.get(), NetError);
}

TEST_F(TlsTest, ExpiredCertificateIsRefused) {
  TlsConfig expired = ca.issue("expired", -10, -1);
  TlsContext server_ctx(TlsContext::Role::kServer, server_config);
  TlsContext client_ctx(TlsContext::Role::kClient, expired);
  auto server = serve(server_ctx);
  TlsStream client(client_ctx, listener.connect(), "server", Deadline(5s));
  expect_net_error([&] { server.get(); }, NetError::kAuth, "certificate has expired");
}

TEST_F(TlsTest, SilentPeerTimesOutWhileOthersAreServed) {
  TlsContext server_ctx(TlsContext::Role::kServer, server_config);
  TlsContext client_ctx(TlsContext::Role::kClient, client_config);
  UniqueFd silent = listener.connect();  // Connects and never says a word.
  auto stalled = std::async(std::launch::async, [&server_ctx, fd = listener.accept()]() mutable {
    return TlsStream(server_ctx, std::move(fd), "silent", Deadline(1500ms));
  });
  const auto start = std::chrono::steady_clock::now();
  auto served = serve(server_ctx);
  TlsStream client(client_ctx, listener.connect(), "server", Deadline(5s));
  served.get();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms) << "the silent peer held others up";
  expect_net_error([&] { stalled.get(); }, NetError::kTimeout, "timed out");
}

TEST(TlsConfig, NamesTheFileAndOptionAtFault) {
  TempDir dir("tls-config");
  test_pki::Ca ca(dir.path(), "ca");
  TlsConfig a = ca.issue("a");
  TlsConfig b = ca.issue("b");
  TlsConfig mismatched = a;
  mismatched.key = b.key;
  try {
    TlsContext(TlsContext::Role::kClient, mismatched);
    ADD_FAILURE() << "a key of another certificate was accepted";
  } catch (const TlsConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(b.key + " (--tls-key) does not match"), std::string::npos)
        << e.what();
  }
  TlsConfig missing = a;
  missing.cacert = (dir.path() / "none.pem").string();
  try {
    TlsContext(TlsContext::Role::kServer, missing);
    ADD_FAILURE() << "a missing CA file was accepted";
  } catch (const TlsConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(missing.cacert), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--tls-cacert"), std::string::npos) << e.what();
  }
  TlsConfig not_pem = a;
  not_pem.cert = a.key;
  EXPECT_THROW(TlsContext(TlsContext::Role::kServer, not_pem), TlsConfigError);
}

}  // namespace
}  // namespace crossrig
