#include "rig/console/attach.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "common/net_io.h"

namespace crossrig::rig::console {

namespace {

constexpr auto kWriteBudget = std::chrono::seconds(30);

// Writes to a terminal or pipe that may be blocking or not.
void write_out(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      wait_fd(fd, POLLOUT, Deadline(kWriteBudget), "writing to the terminal");
      continue;
    }
    if (n < 0) throw std::runtime_error(std::string("writing output: ") + std::strerror(errno));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace

AttachEnd relay(int in_fd, int out_fd, int conn_fd, int stop_fd, DetachKeys keys) {
  DetachFilter filter(keys);
  std::string forward;
  char buf[16 * 1024];
  for (;;) {
    pollfd fds[3] = {{conn_fd, POLLIN, 0}, {in_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int rc = ::poll(fds, stop_fd >= 0 ? 3 : 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    if (stop_fd >= 0 && fds[2].revents) return AttachEnd::kStopped;
    if (fds[0].revents) {
      ssize_t n = ::read(conn_fd, buf, sizeof buf);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return AttachEnd::kConsoleClosed;
      write_out(out_fd, buf, static_cast<std::size_t>(n));
    }
    if (fds[1].revents) {
      ssize_t n = ::read(in_fd, buf, sizeof buf);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return AttachEnd::kInputClosed;
      forward.clear();
      bool detach = filter.feed(std::string_view(buf, static_cast<std::size_t>(n)), forward);
      // What was typed before the detach sequence in the same read still goes to the board.
      write_all(conn_fd,
                std::span(reinterpret_cast<const std::uint8_t*>(forward.data()), forward.size()),
                Deadline(kWriteBudget));
      if (detach) return AttachEnd::kDetached;
    }
  }
}

}  // namespace crossrig::rig::console
