#include "engine/page_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/hex.h"
#include "engine/ckpt_error.h"
#include "engine/image_transfer.h"
#include "engine/phase.h"

namespace crossrig::engine {

namespace {

std::string peer_name(const sockaddr_storage& ss, socklen_t len) {
  SocketAddress a;
  a.storage = ss;
  a.length = len;
  return a.to_string();
}

// Reads and drops what the peer still sends, until it closes or the deadline: a socket closed
// with unread bytes sends a reset, which can overtake the TLS alert that tells the client why
// it was refused.
void drain(int fd, const Deadline& deadline) {
  ::shutdown(fd, SHUT_WR);
  std::array<char, 4096> sink;
  while (!deadline.expired()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, deadline.remaining_ms()) <= 0) return;
    if (::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT) <= 0) return;
  }
}

}  // namespace

PageServer::PageServer(PageServerOptions opts) : opts_(std::move(opts)) {
  if (!std::filesystem::is_directory(opts_.dir))
    throw CkptError(CkptError::kUsage,
                    "page-server -D " + opts_.dir + ": no such directory; make it first");
  try {
    tls_ = std::make_unique<TlsContext>(TlsContext::Role::kServer, opts_.tls);
  } catch (const TlsConfigError& e) {
    throw CkptError(CkptError::kUsage, e.what());
  }
  const std::string where = format_host_port(opts_.listen);
  std::vector<SocketAddress> addrs;
  try {
    addrs = resolve(opts_.listen, SOCK_STREAM);
  } catch (const NetError& e) {
    throw CkptError(CkptError::kUsage, "--listen " + where + ": " + e.what());
  }
  if (addrs.empty()) throw CkptError(CkptError::kUsage, "--listen " + where + ": no address");
  SocketAddress& a = addrs.front();
  listener_ = UniqueFd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_) throw_errno("socket");
  const int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener_.get(), a.get(), a.length) != 0 || ::listen(listener_.get(), 64) != 0)
    throw CkptError(CkptError::kUsage, "cannot listen on " + where + ": " + std::strerror(errno) +
                                           " (another server there? choose another --listen)");
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

PageServer::~PageServer() = default;

TransferReport PageServer::serve(UniqueFd fd, std::string peer) const {
  TransferReport r;
  r.peer = std::move(peer);
  ImageReceiver receiver(opts_.dir);
  std::optional<TlsStream> stream;
  // The socket stays open after a failed handshake destroyed its stream, to drain it.
  UniqueFd kept(::dup(fd.get()));
  try {
    stream.emplace(*tls_, std::move(fd), r.peer, Deadline(opts_.timeout));
    r.subject = stream->peer_subject();
    while (!receiver.committed()) {
      std::array<std::uint8_t, kHeaderSize> h;
      stream->read_exact(h, Deadline(opts_.timeout));
      const auto [type, len] = decode_header(h);
      Message m{type, std::vector<std::uint8_t>(len)};
      // The whole message within the budget: a client trickling bytes is dropped too.
      stream->read_exact(m.payload, Deadline(opts_.timeout));
      const std::optional<Message> reply = receiver.on_message(m);
      if (reply)
        stream->write_all(encode_message(reply->type, reply->payload), Deadline(opts_.timeout));
    }
    r.committed = true;
    stream->close_notify(Deadline(std::chrono::seconds(2)));
  } catch (const std::exception& e) {
    r.error = e.what();
    if (stream) {
      // Tells the client why before closing, and reads on a little so that what it still
      // sends does not turn our close into a reset that loses the explanation.
      try {
        const std::string text = nlohmann::json{{"error", r.error}}.dump();
        stream->write_all(encode_message(MessageType::kError, as_bytes(text)),
                          Deadline(std::chrono::seconds(2)));
        stream->close_notify(Deadline(std::chrono::seconds(1)));
        std::vector<std::uint8_t> sink(1 << 16);
        const Deadline drain(std::chrono::seconds(2));
        while (stream->read_some(sink, drain) > 0) {
        }
      } catch (const std::exception&) {
      }
    } else if (kept) {
      drain(kept.get(), Deadline(std::chrono::seconds(2)));
    }
  }
  r.path = receiver.path();
  r.files = receiver.files();
  r.bytes = receiver.bytes();
  return r;
}

std::size_t PageServer::run(const std::function<void(const TransferReport&)>& report) {
  // Shared with the connections' threads, which may still unlock it after run() returned.
  struct Counts {
    std::mutex m;
    std::condition_variable ended;
    std::size_t active = 0, committed = 0;
  };
  auto counts = std::make_shared<Counts>();
  while (!stop_ && !g_interrupted.load()) {
    pollfd p{listener_.get(), POLLIN, 0};
    // Wakes up now and then to see stop() and interrupts.
    if (::poll(&p, 1, 200) <= 0) continue;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    UniqueFd fd(::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC));
    if (!fd) continue;
    std::string peer = peer_name(ss, len);
    std::unique_lock lock(counts->m);
    if (counts->active >= opts_.max_clients) {
      TransferReport busy;
      busy.peer = peer;
      busy.error =
          "refused: already serving " + std::to_string(counts->active) + " clients (--max-clients)";
      report(busy);
      continue;
    }
    ++counts->active;
    std::thread([this, &report, counts, fd = std::move(fd), peer = std::move(peer)]() mutable {
      const TransferReport r = serve(std::move(fd), std::move(peer));
      std::lock_guard done(counts->m);
      if (r.committed) {
        ++counts->committed;
        if (opts_.once) stop_ = true;
      }
      report(r);
      --counts->active;
      counts->ended.notify_all();
    }).detach();
  }
  std::unique_lock lock(counts->m);
  counts->ended.wait(lock, [&] { return counts->active == 0; });
  return counts->committed;
}

}  // namespace crossrig::engine
