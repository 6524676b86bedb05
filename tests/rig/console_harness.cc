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

namespace {

bench::ChildOptions child_options(const std::vector<std::string>& env, int stdio_fd) {
  bench::ChildOptions o;
  o.stdio_fd = stdio_fd;
  o.env = env;
  o.parent_death_signal = SIGTERM;
  return o;
}

}  // namespace

Child::Child(const std::vector<std::string>& args, const std::vector<std::string>& env,
             int stdio_fd)
    : bench::ChildProcess(args, child_options(env, stdio_fd)) {}

std::vector<std::string> ConsoleServeTest::env() const {
  return {"CROSSRIG_RUNTIME_DIR=" + (dir_.path() / "run").string()};
}

std::filesystem::path ConsoleServeTest::socket() const {
  return dir_.path() / "run/console/b1.sock";
}

std::filesystem::path ConsoleServeTest::log_dir() const {
  return dir_.path() / "logs";
}

void ConsoleServeTest::serve(const std::string& peer_address,
                             const std::vector<std::string>& extra) {
  std::vector<std::string> args = {rig_binary(), "console",    "serve",     "--name",          "b1",
                                   "--address",  peer_address, "--log-dir", log_dir().string()};
  args.insert(args.end(), extra.begin(), extra.end());
  serve_.emplace(args, env());
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(socket()); }, kWait))
      << "rig console serve did not create " << socket();
}

void ConsoleServeTest::TearDown() {
  if (!serve_) return;
  serve_->signal(SIGTERM);
  EXPECT_EQ(serve_->wait(kWait), 0) << "rig console serve did not stop cleanly on SIGTERM";
  EXPECT_FALSE(std::filesystem::exists(socket())) << "the socket was left behind";
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
