#include "rig/lab/qmp.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/net_io.h"

namespace crossrig::rig::lab {

namespace {

// Reads until a whole line holding `key` arrived (QMP sends one JSON object per line, and
// events may come before the answer).
void read_until(int fd, const std::string& key, const crossrig::Deadline& deadline) {
  std::string pending;
  for (;;) {
    std::uint8_t buf[4096];
    std::size_t n = crossrig::read_some(fd, buf, deadline);
    if (n == 0) {
      // QEMU closes the socket as it quits: that is the answer to "quit" too.
      if (key == "\"return\"") return;
      throw std::runtime_error("QEMU closed its QMP socket before answering");
    }
    pending.append(reinterpret_cast<const char*>(buf), n);
    std::size_t end = 0;
    while ((end = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      if (line.find(key) != std::string::npos) return;
    }
  }
}

void send(int fd, const std::string& text, const crossrig::Deadline& deadline) {
  crossrig::write_all(fd, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                      deadline);
}

}  // namespace

void qmp_quit(const std::string& path, std::chrono::milliseconds timeout) {
  crossrig::Deadline deadline(timeout);
  crossrig::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error(path + ": path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("cannot connect to QMP at " + path + ": " + std::strerror(errno));
  }
  crossrig::set_nonblocking(fd.get());
  read_until(fd.get(), "\"QMP\"", deadline);
  send(fd.get(), "{\"execute\":\"qmp_capabilities\"}\n", deadline);
  read_until(fd.get(), "\"return\"", deadline);
  send(fd.get(), "{\"execute\":\"quit\"}\n", deadline);
  read_until(fd.get(), "\"return\"", deadline);
}

}  // namespace crossrig::rig::lab
