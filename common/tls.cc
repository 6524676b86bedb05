#include "common/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace crossrig {

namespace {

// OpenSSL's error queue as one line of reasons ("certificate verify failed; ...").
std::string openssl_reasons() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    char buf[256];
    if (reason == nullptr) {
      ERR_error_string_n(e, buf, sizeof buf);
      reason = buf;
    }
    if (!out.empty()) out += "; ";
    out += reason;
  }
  return out.empty() ? "no reason given" : out;
}

void check_readable(const std::string& path, const char* what, const char* option) {
  if (::access(path.c_str(), R_OK) != 0) {
    throw TlsConfigError(std::string("cannot read the ") + what + " " + path + ": " +
                         std::strerror(errno) + "; give its path with " + option);
  }
}

// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own writes with write(), and a peer
// gone mid-transfer would kill the whole process with SIGPIPE instead of failing the call.
int bio_write(BIO* b, const char* data, std::size_t len, std::size_t* written) {
  const int fd = static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(b)));
  BIO_clear_retry_flags(b);
  for (;;) {
    const ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
    if (n >= 0) {
      *written = static_cast<std::size_t>(n);
      return 1;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
    return 0;
  }
}

int bio_read(BIO* b, char* data, std::size_t len, std::size_t* read) {
  const int fd = static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(b)));
  BIO_clear_retry_flags(b);
  for (;;) {
    const ssize_t n = ::recv(fd, data, len, 0);
    if (n > 0) {
      *read = static_cast<std::size_t>(n);
      return 1;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_read(b);
    return 0;
  }
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

const BIO_METHOD* socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "crossrig socket");
    if (m == nullptr || BIO_meth_set_write_ex(m, bio_write) != 1 ||
        BIO_meth_set_read_ex(m, bio_read) != 1 || BIO_meth_set_ctrl(m, bio_ctrl) != 1)
      throw NetError(NetError::kOther, "cannot make an OpenSSL BIO: " + openssl_reasons());
    return m;
  }();
  return method;
}

}  // namespace

TlsContext::TlsContext(Role role, const TlsConfig& config) : role_(role) {
  check_readable(config.cacert, "TLS CA certificate", "--tls-cacert");
  check_readable(config.cert, "TLS certificate", "--tls-cert");
  check_readable(config.key, "TLS private key", "--tls-key");
  ctx_ = SSL_CTX_new(role == Role::kServer ? TLS_server_method() : TLS_client_method());
  if (ctx_ == nullptr) throw NetError(NetError::kOther, "SSL_CTX_new: " + openssl_reasons());
  // Ensures ctx_ is freed if a check below throws.
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> guard(ctx_, SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
  // A connection carries one image and ends: resumption tickets would only cost a write.
  SSL_CTX_set_num_tickets(ctx_, 0);
  if (SSL_CTX_load_verify_file(ctx_, config.cacert.c_str()) != 1)
    throw TlsConfigError("the TLS CA certificate " + config.cacert +
                         " (--tls-cacert) is not a PEM certificate: " + openssl_reasons());
  if (SSL_CTX_use_certificate_chain_file(ctx_, config.cert.c_str()) != 1)
    throw TlsConfigError("the TLS certificate " + config.cert +
                         " (--tls-cert) is not a usable PEM certificate: " + openssl_reasons());
  // Loading the key checks it against the certificate too.
  if (SSL_CTX_use_PrivateKey_file(ctx_, config.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
      throw TlsConfigError("the TLS private key " + config.key +
                           " (--tls-key) does not match the certificate " + config.cert +
                           " (--tls-cert): give the key that certificate was made for");
    throw TlsConfigError("the TLS private key " + config.key +
                         " (--tls-key) is not a usable PEM private key: " + openssl_reasons());
  }
  SSL_CTX_set_verify(
      ctx_, SSL_VERIFY_PEER | (role == Role::kServer ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
      nullptr);
  if (role == Role::kServer) {
    // Tells clients which CA to pick a certificate of.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.cacert.c_str()))
      SSL_CTX_set_client_CA_list(ctx_, names);
  }
  guard.release();
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

TlsStream::TlsStream(const TlsContext& ctx, UniqueFd fd, std::string peer, const Deadline& deadline)
    : fd_(std::move(fd)), peer_(std::move(peer)) {
  set_nonblocking(fd_.get());
  ssl_ = SSL_new(ctx.get());
  BIO* bio = ssl_ ? BIO_new(socket_method()) : nullptr;
  if (bio == nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
    throw NetError(NetError::kOther, "cannot make a TLS connection: " + openssl_reasons());
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd_.get())));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);
  const bool server = ctx.role() == TlsContext::Role::kServer;
  try {
    drive([&] { return server ? SSL_accept(ssl_) : SSL_connect(ssl_); }, deadline,
          "in the TLS handshake", false);
  } catch (...) {
    // A constructor that throws runs no destructor.
    SSL_free(ssl_);
    ssl_ = nullptr;
    throw;
  }
}

TlsStream::~TlsStream() {
  SSL_free(ssl_);
}

TlsStream::TlsStream(TlsStream&& other) noexcept
    : fd_(std::move(other.fd_)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      peer_(std::move(other.peer_)) {}

template <typename Op>
int TlsStream::drive(Op op, const Deadline& deadline, const char* doing, bool allow_eof) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int rc = op();
    if (rc > 0) return rc;
    const int err = SSL_get_error(ssl_, rc);
    const int saved_errno = errno;
    switch (err) {
      case SSL_ERROR_WANT_READ:
        wait_fd(fd_.get(), POLLIN, deadline, std::string(doing) + " with " + peer_);
        continue;
      case SSL_ERROR_WANT_WRITE:
        wait_fd(fd_.get(), POLLOUT, deadline, std::string(doing) + " with " + peer_);
        continue;
      case SSL_ERROR_ZERO_RETURN:
        if (allow_eof) return 0;
        throw NetError(NetError::kClosed, peer_ + " closed the connection " + doing);
      case SSL_ERROR_SYSCALL:
        if (saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE)
          throw NetError(NetError::kClosed, peer_ + " cut the connection " + doing);
        throw NetError(NetError::kOther, std::string("socket error with ") + peer_ + " " + doing +
                                             ": " + std::strerror(saved_errno));
      default:
        break;
    }
    if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      ERR_clear_error();
      throw NetError(NetError::kClosed, peer_ + " cut the connection " + doing);
    }
    std::string why = openssl_reasons();
    if (const long v = SSL_get_verify_result(ssl_); v != X509_V_OK)
      why = std::string("its certificate was refused: ") + X509_verify_cert_error_string(v);
    throw NetError(NetError::kAuth, "TLS with " + peer_ + " failed " + doing + ": " + why +
                                        " (both ends need a certificate signed by the CA the "
                                        "other trusts: check --tls-cacert, --tls-cert, --tls-key)");
  }
}

void TlsStream::write_all(std::span<const std::uint8_t> bytes, const Deadline& deadline) {
  while (!bytes.empty()) {
    std::size_t n = 0;
    drive([&] { return SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n); }, deadline,
          "while sending", false);
    bytes = bytes.subspan(n);
  }
}

std::size_t TlsStream::read_some(std::span<std::uint8_t> buf, const Deadline& deadline) {
  std::size_t n = 0;
  if (drive([&] { return SSL_read_ex(ssl_, buf.data(), buf.size(), &n); }, deadline,
            "while receiving", true) == 0)
    return 0;
  return n;
}

void TlsStream::read_exact(std::span<std::uint8_t> buf, const Deadline& deadline) {
  const std::size_t total = buf.size();
  while (!buf.empty()) {
    const std::size_t n = read_some(buf, deadline);
    if (n == 0) {
      throw NetError(NetError::kClosed, peer_ + " closed the connection after " +
                                            std::to_string(total - buf.size()) + " of " +
                                            std::to_string(total) + " bytes");
    }
    buf = buf.subspan(n);
  }
}

void TlsStream::close_notify(const Deadline& deadline) {
  // SSL_shutdown returns 0 once ours is sent: the peer's own close_notify is not waited for.
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_shutdown(ssl_);
    if (rc >= 0) return;
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_WRITE) {
      wait_fd(fd_.get(), POLLOUT, deadline, "closing the connection with " + peer_);
    } else if (err == SSL_ERROR_WANT_READ) {
      wait_fd(fd_.get(), POLLIN, deadline, "closing the connection with " + peer_);
    } else {
      throw NetError(NetError::kClosed,
                     "closing the connection with " + peer_ + ": " + openssl_reasons());
    }
  }
}

std::string TlsStream::peer_subject() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) return "";
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

}  // namespace crossrig
