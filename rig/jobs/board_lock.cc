#include "rig/jobs/board_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "common/net_io.h"

namespace crossrig::rig {

namespace {

std::string holder_of(int fd) {
  char buf[512] = {};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text.empty() ? "another job" : text;
}

[[noreturn]] void cannot_lock(const std::string& board, const std::string& path) {
  throw std::runtime_error("board '" + board + "': cannot lock " + path + ": " +
                           std::strerror(errno));
}

[[noreturn]] void busy(const std::string& board, const std::string& path, int fd) {
  throw std::runtime_error("board '" + board + "' is busy: " + holder_of(fd) + " holds " + path +
                           "; wait for it, or give --wait SECONDS");
}

}  // namespace

std::string lock_dir() {
  if (const char* d = std::getenv("RIG_LOCK_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/rig/locks";
  return "/run/rig/locks";
}

BoardLock::BoardLock(const std::string& board, const std::string& holder,
                     std::chrono::milliseconds wait) {
  std::string dir = lock_dir();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string path = dir + "/" + board + ".lock";
  fd_ = crossrig::UniqueFd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd_) {
    throw std::runtime_error("board '" + board + "': cannot open the lock file " + path + ": " +
                             std::strerror(errno) + "; set RIG_LOCK_DIR to a writable directory");
  }
  crossrig::Deadline deadline(wait);
  while (flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) cannot_lock(board, path);
    if (deadline.expired()) busy(board, path, fd_.get());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string text = holder + "\n";
  if (ftruncate(fd_.get(), 0) != 0 ||
      pwrite(fd_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    // The lock holds without the note; a waiting job then says "another job".
    return;
  }
}

}  // namespace crossrig::rig
