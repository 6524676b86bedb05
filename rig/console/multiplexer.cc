#include "rig/console/multiplexer.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <vector>

#include "common/net_io.h"
#include "rig/console/console_paths.h"
#include "rig/console/mux_protocol.h"

namespace crossrig::rig::console {

namespace {

constexpr std::size_t kChunk = 16 * 1024;
// Input waiting for a board that does not read it; more is refused with a notice.
constexpr std::size_t kUpstreamQueue = 64 * 1024;
constexpr auto kHelloTimeout = std::chrono::seconds(10);
// A dropped reader gets this long to receive the message saying why.
constexpr auto kDropGrace = std::chrono::seconds(2);

sockaddr_un unix_address(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof addr.sun_path) {
    throw std::runtime_error("socket path " + path.string() + " is too long (at most " +
                             std::to_string(sizeof addr.sun_path - 1) +
                             " bytes); set CROSSRIG_RUNTIME_DIR or --socket to a shorter one");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.native().size());
  return addr;
}

bool someone_listens(const sockaddr_un& addr) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

void log_line(const std::string& board, const std::string& text) {
  std::cerr << "rig console " << board << ": " << text << std::endl;
}

}  // namespace

struct Multiplexer::Reader {
  UniqueFd fd;
  std::string in;  // bytes before the hello is complete
  bool greeted = false;
  bool read_only = false;
  std::string out;
  std::size_t out_from = 0;
  bool dropping = false;
  Clock::time_point deadline;  // for the hello, then for a dropped reader's last message
  std::size_t pending() const { return out.size() - out_from; }
};

Multiplexer::Multiplexer(MuxConfig config)
    : config_(std::move(config)), backoff_(config_.backoff_min) {
  sockaddr_un addr = unix_address(config_.socket_path);
  std::error_code ec;
  std::filesystem::create_directories(config_.socket_path.parent_path(), ec);
  if (ec) {
    throw std::runtime_error("cannot create " + config_.socket_path.parent_path().string() +
                             ": " + ec.message() + "; set CROSSRIG_RUNTIME_DIR or --socket");
  }
  if (someone_listens(addr)) {
    throw std::runtime_error("another multiplexer already serves " + config_.board + " at " +
                             config_.socket_path.string() + "; attach to it instead");
  }
  ::unlink(config_.socket_path.c_str());  // a stale socket of a multiplexer that died
  listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listen_fd_ ||
      ::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_.get(), 16) != 0) {
    throw std::runtime_error("cannot listen on " + config_.socket_path.string() + ": " +
                             std::strerror(errno));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  stop_read_.reset(pipe_fds[0]);
  stop_write_.reset(pipe_fds[1]);
  upstream_name_ = format_host_port(config_.upstream);
  next_attempt_ = Clock::now();
}

Multiplexer::~Multiplexer() { ::unlink(config_.socket_path.c_str()); }

void Multiplexer::stop() {
  char byte = 0;
  [[maybe_unused]] ssize_t n = ::write(stop_write_.get(), &byte, 1);
}

void Multiplexer::run() {
  log_line(config_.board, "serving " + upstream_name_ + " on " + config_.socket_path.string() +
                              ", logs in " + config_.log_dir.string());
  std::vector<pollfd> fds;
  std::vector<Reader*> polled;
  for (;;) {
    if (state_ == Upstream::kDown && Clock::now() >= next_attempt_) start_connect();
    fds.clear();
    polled.clear();
    fds.push_back({stop_read_.get(), POLLIN, 0});
    fds.push_back({listen_fd_.get(), POLLIN, 0});
    std::size_t upstream_at = 0;
    if (state_ != Upstream::kDown) {
      upstream_at = fds.size();
      short ev = state_ == Upstream::kConnecting ? POLLOUT : POLLIN;
      if (state_ == Upstream::kUp && !to_upstream_.empty()) ev |= POLLOUT;
      fds.push_back({upstream_.get(), ev, 0});
    }
    std::size_t first_reader = fds.size();
    for (auto& r : readers_) {
      short ev = r->dropping ? 0 : POLLIN;
      if (r->pending() > 0) ev |= POLLOUT;
      fds.push_back({r->fd.get(), ev, 0});
      polled.push_back(r.get());
    }
    int rc = ::poll(fds.data(), fds.size(), poll_timeout_ms());
    if (rc < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    if (rc > 0 && fds[0].revents) return;
    if (rc > 0) {
      if (fds[1].revents & POLLIN) accept_reader();
      short up_rev = upstream_at ? fds[upstream_at].revents : 0;
      if (up_rev) {
        if (state_ == Upstream::kConnecting) {
          finish_connect();
        } else {
          if (up_rev & (POLLIN | POLLHUP | POLLERR)) read_upstream();
          if (state_ == Upstream::kUp && (up_rev & POLLOUT)) flush_upstream();
        }
      }
      for (std::size_t i = 0; i < polled.size(); ++i) {
        short rev = fds[first_reader + i].revents;
        Reader& r = *polled[i];
        if (!r.fd) continue;
        if (rev & POLLOUT) flush_reader(r);
        if (r.fd && (rev & (POLLIN | POLLHUP | POLLERR)) && !r.dropping) read_reader(r);
        if (r.fd && r.dropping && (rev & (POLLHUP | POLLERR))) r.fd.reset();
      }
    }
    auto now = Clock::now();
    for (auto& r : readers_) {
      if (!r->fd) continue;
      if (r->dropping && (r->pending() == 0 || now >= r->deadline)) {
        r->fd.reset();
      } else if (!r->greeted && !r->dropping && now >= r->deadline) {
        drop_reader(*r, "no hello within 10 s (see rig/console/README.md)");
      }
    }
    readers_.remove_if([](const auto& r) { return !r->fd; });
  }
}

int Multiplexer::poll_timeout_ms() const {
  auto now = Clock::now();
  auto until = now + std::chrono::seconds(1);
  if (state_ == Upstream::kDown) until = std::min(until, next_attempt_);
  for (const auto& r : readers_) {
    if (r->dropping || !r->greeted) until = std::min(until, r->deadline);
  }
  if (until <= now) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
}

void Multiplexer::start_connect() {
  try {
    std::vector<SocketAddress> addrs = resolve(config_.upstream, SOCK_STREAM);
    const SocketAddress& a = addrs.front();
    UniqueFd fd(::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd.get(), a.get(), a.length) == 0) {
      upstream_ = std::move(fd);
      upstream_up();
      return;
    }
    if (errno != EINPROGRESS) throw std::runtime_error(std::strerror(errno));
    upstream_ = std::move(fd);
    state_ = Upstream::kConnecting;
  } catch (const std::exception& e) {
    upstream_lost(std::string("cannot connect: ") + e.what());
  }
}

void Multiplexer::finish_connect() {
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(upstream_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    upstream_lost(std::string("cannot connect: ") + std::strerror(err));
    return;
  }
  upstream_up();
}

void Multiplexer::upstream_up() {
  state_ = Upstream::kUp;
  backoff_ = config_.backoff_min;
  lost_reported_ = false;
  ++boot_;
  auto now = std::chrono::system_clock::now();
  std::string what = "connected to " + upstream_name_ + " (boot " + std::to_string(boot_) + ")";
  try {
    log_.emplace(config_.log_dir, config_.board, log_base_name(config_.board, now, boot_),
                 config_.raw_log);
    log_->note("rig console " + config_.board + ": " + what, now);
    log_line(config_.board, what + ", logging to " + log_->path().string());
  } catch (const std::exception& e) {
    log_.reset();
    log_line(config_.board, what + "; NOT LOGGED: " + e.what());
  }
  broadcast(notice(config_.board, what));
}

void Multiplexer::upstream_lost(const std::string& why) {
  bool was_up = state_ == Upstream::kUp;
  upstream_.reset();
  state_ = Upstream::kDown;
  to_upstream_.clear();
  next_attempt_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, config_.backoff_max);
  if (was_up) {
    if (log_) log_->note("rig console " + config_.board + ": " + why, std::chrono::system_clock::now());
    log_.reset();
    broadcast(notice(config_.board, why + "; reconnecting"));
  }
  // Repeated failures while the board is off are reported once, not at every attempt.
  if (was_up || !lost_reported_) log_line(config_.board, why + "; retrying");
  lost_reported_ = true;
}

void Multiplexer::read_upstream() {
  char buf[kChunk];
  ssize_t n = ::read(upstream_.get(), buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    upstream_lost(n == 0 ? "the board closed the console connection"
                         : std::string("console connection failed: ") + std::strerror(errno));
    return;
  }
  std::string_view bytes(buf, static_cast<std::size_t>(n));
  if (log_) log_->write(bytes, std::chrono::system_clock::now());
  backlog_.append(bytes);
  // Trimmed in steps so the copy is amortised over many chunks.
  if (backlog_.size() > 2 * config_.backlog_max) {
    backlog_.erase(0, backlog_.size() - config_.backlog_max);
  }
  broadcast(bytes);
}

void Multiplexer::flush_upstream() {
  while (!to_upstream_.empty()) {
    ssize_t n = ::send(upstream_.get(), to_upstream_.data(), to_upstream_.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) {
      upstream_lost(std::string("console connection failed: ") + std::strerror(errno));
      return;
    }
    to_upstream_.erase(0, static_cast<std::size_t>(n));
  }
}

void Multiplexer::accept_reader() {
  for (;;) {
    UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) return;
    auto r = std::make_unique<Reader>();
    r->fd = std::move(fd);
    r->deadline = Clock::now() + kHelloTimeout;
    readers_.push_back(std::move(r));
    if (readers_.size() > config_.max_readers) {
      drop_reader(*readers_.back(), "too many readers (" + std::to_string(config_.max_readers) +
                                        "); detach another one first");
    }
  }
}

void Multiplexer::read_reader(Reader& r) {
  char buf[kChunk];
  ssize_t n = ::read(r.fd.get(), buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    r.fd.reset();
    return;
  }
  std::string_view bytes(buf, static_cast<std::size_t>(n));
  if (r.greeted) {
    take_input(r, bytes);
    return;
  }
  r.in.append(bytes);
  HelloParse hello = parse_hello(r.in);
  if (hello.status == HelloParse::kNeedMore) return;
  if (hello.status == HelloParse::kBad) {
    drop_reader(r, hello.error);
    return;
  }
  r.greeted = true;
  r.read_only = hello.hello.read_only;
  std::size_t backlog = std::min({hello.hello.backlog, config_.backlog_max, backlog_.size()});
  send(r, std::string_view(backlog_).substr(backlog_.size() - backlog));
  if (state_ != Upstream::kUp) {
    send(r, notice(config_.board, "the console is down; waiting for the board to come back"));
  }
  std::string rest = r.in.substr(hello.consumed);
  r.in.clear();
  if (!rest.empty()) take_input(r, rest);
}

void Multiplexer::take_input(Reader& r, std::string_view bytes) {
  if (r.read_only) return;
  if (state_ != Upstream::kUp) {
    send(r, notice(config_.board, "the console is down; input dropped"));
    return;
  }
  // A chunk is queued whole or not at all, so writers never interleave inside one write.
  if (to_upstream_.size() + bytes.size() > kUpstreamQueue) {
    send(r, notice(config_.board, "the board is not reading input; input dropped"));
    return;
  }
  to_upstream_.append(bytes);
  flush_upstream();
}

void Multiplexer::send(Reader& r, std::string_view bytes) {
  if (!r.fd || r.dropping || bytes.empty()) return;
  if (r.pending() + bytes.size() > config_.reader_buffer) {
    drop_reader(r, "this reader fell " + std::to_string(config_.reader_buffer / 1024) +
                       " KiB behind and was dropped; attach again");
    return;
  }
  if (r.out_from > 0 && r.out_from >= r.out.size() / 2) {
    r.out.erase(0, r.out_from);
    r.out_from = 0;
  }
  r.out.append(bytes);
  flush_reader(r);
}

void Multiplexer::flush_reader(Reader& r) {
  while (r.pending() > 0) {
    ssize_t n = ::send(r.fd.get(), r.out.data() + r.out_from, r.pending(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) {
      r.fd.reset();
      return;
    }
    r.out_from += static_cast<std::size_t>(n);
  }
  r.out.clear();
  r.out_from = 0;
}

void Multiplexer::drop_reader(Reader& r, const std::string& why) {
  if (r.dropping) return;
  // Queued output is discarded so the reason is the next thing the reader gets.
  r.out = notice(config_.board, why);
  r.out_from = 0;
  r.dropping = true;
  r.deadline = Clock::now() + kDropGrace;
  log_line(config_.board, "dropped a reader: " + why);
  flush_reader(r);
}

void Multiplexer::broadcast(std::string_view bytes) {
  for (auto& r : readers_) {
    if (r->greeted) send(*r, bytes);
  }
}

}  // namespace crossrig::rig::console
