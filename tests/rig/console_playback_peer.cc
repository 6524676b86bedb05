#include "tests/rig/console_playback_peer.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace crossrig::rig::console::testing {

PlaybackPeer::PlaybackPeer(std::vector<Boot> boots, std::chrono::milliseconds down_for, bool gated)
    : boots_(std::move(boots)), down_for_(down_for), released_(!gated) {
  listen_fd_ = listen_on_port();
  thread_ = std::thread([this] { serve(); });
}

PlaybackPeer::~PlaybackPeer() {
  stop_ = true;
  changed_.notify_all();
  thread_.join();
}

std::string PlaybackPeer::crlf(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

UniqueFd PlaybackPeer::listen_on_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), 4) != 0) {
    throw std::runtime_error(std::string("playback peer: bind/listen: ") + std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  return fd;
}

void PlaybackPeer::release() {
  std::lock_guard lock(mutex_);
  released_ = true;
  changed_.notify_all();
}

void PlaybackPeer::print(const std::string& bytes) {
  std::lock_guard lock(mutex_);
  to_print_ += bytes;
}

std::string PlaybackPeer::input() const {
  std::lock_guard lock(mutex_);
  return input_;
}

bool PlaybackPeer::wait_input(const std::string& text, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return input_.find(text) != std::string::npos; });
}

bool PlaybackPeer::drain_input(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    std::lock_guard lock(mutex_);
    input_.append(buf, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
}

// Sends bytes[0, upto) in chunks of 1..300 bytes with 0..2 ms between them, the way a UART
// behind QEMU's chardev delivers a boot; false when stopped or the client went away.
bool PlaybackPeer::play(int fd, const std::string& bytes, std::size_t upto) {
  std::uint32_t seed = 12345;
  std::size_t at = 0;
  while (at < upto && !stop_) {
    seed = seed * 1103515245 + 12345;
    std::size_t chunk = std::min<std::size_t>(1 + (seed >> 16) % 300, upto - at);
    ssize_t n = ::send(fd, bytes.data() + at, chunk, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += static_cast<std::size_t>(n);
    drain_input(fd);
    std::this_thread::sleep_for(std::chrono::microseconds((seed >> 8) % 2000));
  }
  return !stop_;
}

void PlaybackPeer::serve() {
  UniqueFd conn;
  for (const Boot& boot : boots_) {
    if (!conn) {
      if (!listen_fd_) listen_fd_ = listen_on_port();
      pollfd p{listen_fd_.get(), POLLIN, 0};
      while (!stop_ && ::poll(&p, 1, 20) <= 0) {
      }
      if (stop_) return;
      conn.reset(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      ++connections_;
    }
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return released_ || stop_.load(); });
    }
    std::size_t upto = boot.cut_at ? std::min(*boot.cut_at, boot.bytes.size()) : boot.bytes.size();
    if (!play(conn.get(), boot.bytes, upto)) return;
    if (boot.cut_at) {
      // Power cut: the connection and the listening port both go away, then come back.
      conn.reset();
      listen_fd_.reset();
      std::this_thread::sleep_for(down_for_);
    }
  }
  finished_ = true;
  // The booted board idles: it prints what print() queued and reads what is typed. Output
  // is paced (16 KiB per 4 ms) so a reader that keeps reading keeps up on a busy machine.
  while (!stop_ && conn) {
    std::string out;
    {
      std::lock_guard lock(mutex_);
      out = to_print_.substr(0, std::size_t{16} * 1024);
      to_print_.erase(0, out.size());
    }
    if (!out.empty() && ::send(conn.get(), out.data(), out.size(), MSG_NOSIGNAL) < 0) return;
    pollfd p{conn.get(), POLLIN, 0};
    if (::poll(&p, 1, 4) > 0 && !drain_input(conn.get())) conn.reset();
  }
}

}  // namespace crossrig::rig::console::testing
