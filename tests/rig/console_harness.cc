#include "tests/rig/console_harness.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/rig/console_playback_peer.h"

namespace crossrig::rig::console::testing {

std::string rig_binary() {
  return std::string(CROSSRIG_BINARY_DIR) + "/bin/rig";
}

std::string boot_fixture() {
  std::string path =
      std::string(CROSSRIG_SOURCE_DIR) + "/tests/rig/console_fixtures/boot_x86_64.txt";
  std::string text = slurp(path);
  if (text.empty()) throw std::runtime_error("missing test fixture " + path);
  return PlaybackPeer::crlf(text);
}

Child::Child(const std::vector<std::string>& args, const std::vector<std::string>& env,
             int stdio_fd) {
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ > 0) return;
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(127);
  if (stdio_fd >= 0) {
    ::setsid();
    ::ioctl(stdio_fd, TIOCSCTTY, 0);
    for (int fd : {0, 1, 2})
      ::dup2(stdio_fd, fd);
  }
  for (const std::string& e : env)
    ::putenv(const_cast<char*>(e.c_str()));
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

Child::~Child() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Child::signal(int sig) const {
  ::kill(pid_, sig);
}

int Child::wait(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool read_until(int fd, std::string& so_far, const std::string& text,
                std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (so_far.find(text) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) continue;
    if (n <= 0) return false;
    so_far.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

std::string read_to_end(int fd, std::chrono::milliseconds timeout) {
  std::string all;
  read_until(fd, all, std::string(1, '\0') + "never-in-console-output", timeout);
  return all;
}

std::vector<std::filesystem::path> boot_logs(const std::filesystem::path& dir, const char* ext) {
  std::vector<std::filesystem::path> logs;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ext && !e.is_symlink()) logs.push_back(e.path());
  }
  // Names start with the board and the connection's start time, so this is boot order.
  std::sort(logs.begin(), logs.end());
  return logs;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace crossrig::rig::console::testing
