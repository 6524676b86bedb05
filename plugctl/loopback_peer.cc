#include "plugctl/loopback_peer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "common/hex.h"
#include "plugctl/http_message.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl::testing {

LoopbackPeer::LoopbackPeer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!listen_fd_ || bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(listen_fd_.get(), 16) != 0 ||
      getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    throw std::runtime_error("cannot set up the loopback test peer");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

LoopbackPeer::~LoopbackPeer() {
  char c = 0;
  (void)!::write(stop_pipe_[1], &c, 1);
  thread_.join();
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

bool LoopbackPeer::wait_readable(int fd) const {
  pollfd p[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  for (;;) {
    if (poll(p, 2, -1) < 0) continue;
    if (p[1].revents != 0) return false;
    if (p[0].revents != 0) return true;
  }
}

std::size_t LoopbackPeer::read_some(int fd, std::string& into) const {
  if (!wait_readable(fd)) return 0;
  char buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n <= 0) return 0;
  into.append(buf, static_cast<std::size_t>(n));
  return static_cast<std::size_t>(n);
}

std::optional<std::string> LoopbackPeer::read_xor_request(int fd) const {
  std::string data;
  while (data.size() < 4) {
    if (read_some(fd, data) == 0) return std::nullopt;
  }
  std::uint32_t length = xor_frame_length(
      std::span<const std::uint8_t, 4>(reinterpret_cast<const std::uint8_t*>(data.data()), 4));
  if (length > kMaxXorFrame) return std::nullopt;
  while (data.size() < 4 + length) {
    if (read_some(fd, data) == 0) return std::nullopt;
  }
  return xor_decrypt(as_bytes(data).subspan(4, length));
}

void LoopbackPeer::write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void LoopbackPeer::serve() {
  for (;;) {
    if (!wait_readable(listen_fd_.get())) return;
    UniqueFd conn(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) continue;
    ++connections_;
    handler_(conn.get(), *this);
  }
}

UdpResponder::UdpResponder(Answer answer) : answer_(std::move(answer)) {
  fd_.reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!fd_ || bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("cannot set up the loopback UDP responder");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] {
    std::vector<std::uint8_t> buf(65536);
    while (!stop_) {
      // Polling in short slices lets the destructor stop the thread without a wake-up pipe.
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      ssize_t n = recvfrom(fd_.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                           &from_len);
      if (n < 0) continue;
      ++received_;
      auto reply = answer_(std::span(buf).first(static_cast<std::size_t>(n)));
      if (!reply.empty()) {
        sendto(fd_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
               from_len);
      }
    }
  });
}

UdpResponder::~UdpResponder() {
  stop_ = true;
  thread_.join();
}

std::string xor_reply_frame(std::string_view plain) {
  return as_string(xor_frame(plain));
}

void XorDevice::operator()(int fd, const LoopbackPeer& peer) {
  while (auto text = peer.read_xor_request(fd)) {
    nlohmann::json request = nlohmann::json::parse(*text);
    {
      std::lock_guard lock(mutex);
      requests.push_back(request);
    }
    LoopbackPeer::write_all(fd, xor_reply_frame(answer(request).dump()));
  }
}

void KlapDevice::operator()(int fd, const LoopbackPeer& peer) {
  HttpParser<HttpRequest> parser;
  for (;;) {
    std::string chunk;
    if (peer.read_some(fd, chunk) == 0) return;
    auto state = parser.feed(as_bytes(chunk));
    if (state == HttpParser<HttpRequest>::State::kError) {
      LoopbackPeer::write_all(fd, serialize(HttpResponse{400, "Bad Request", {}, {}}));
      return;
    }
    if (state == HttpParser<HttpRequest>::State::kComplete) break;
  }
  const HttpRequest& req = parser.message();
  HttpResponse resp{200, "OK", {}, {}};
  std::lock_guard lock(mutex);
  std::string cookie = req.headers.get("Cookie").value_or("");
  if (auto eq = cookie.find('='); eq != std::string::npos) cookie = cookie.substr(eq + 1);
  if (req.target == "/app/handshake1") {
    Bytes local(req.body.begin(), req.body.end());
    Bytes remote = random_bytes(16);
    Bytes server = klap_handshake1_hash(version, local, remote, auth_hash);
    std::string id = "S" + std::to_string(++handshakes);
    resp.headers.set("Set-Cookie", "TP_SESSIONID=" + id + ";TIMEOUT=86400");
    resp.body = as_string(remote) + as_string(server);
    seeds[id] = {local, remote};
  } else if (req.target == "/app/handshake2") {
    auto s = seeds.find(cookie);
    Bytes expected = s == seeds.end() ? Bytes{}
                                      : klap_handshake2_hash(version, s->second.first,
                                                             s->second.second, auth_hash);
    if (s == seeds.end() || as_bytes(req.body).size() != expected.size() ||
        req.body != as_string(expected)) {
      resp.status = 403;
      resp.reason = "Forbidden";
    } else {
      sessions.insert_or_assign(cookie, KlapSession(s->second.first, s->second.second, auth_hash));
    }
  } else if (req.target.rfind("/app/request?seq=", 0) == 0) {
    auto session = sessions.find(cookie);
    if (session == sessions.end()) {
      resp.status = 403;
      resp.reason = "Forbidden";
    } else {
      auto seq = static_cast<std::int32_t>(std::stol(req.target.substr(17)));
      auto plain = session->second.decrypt(as_bytes(req.body), seq);
      if (!plain) {
        resp.status = 400;
        resp.reason = "Bad Request";
      } else {
        std::string reply = answer(nlohmann::json::parse(*plain)).dump();
        resp.body = as_string(session->second.encrypt(reply, seq));
        if (++answered == forget_sessions_after) sessions.clear();
      }
    }
  } else {
    resp.status = 404;
    resp.reason = "Not Found";
  }
  LoopbackPeer::write_all(fd, serialize(resp));
}

}  // namespace crossrig::plugctl::testing
