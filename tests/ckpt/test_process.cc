#include "tests/ckpt/test_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <system_error>
#include <thread>

#include "tests/support/file_text.h"

namespace crossrig::ckpt_test {

namespace fs = std::filesystem;

namespace {
std::vector<std::function<void()>>& cleanups() {
  static std::vector<std::function<void()>> c;
  return c;
}
}  // namespace

std::set<pid_t>& live() {
  static std::set<pid_t> pids;
  return pids;
}

void at_fail(std::function<void()> cleanup) {
  cleanups().push_back(std::move(cleanup));
}

void fail(const std::string& why) {
  std::cerr << "FAIL: " << why << "\n";
  for (pid_t p : live())
    kill(p, SIGKILL);
  while (waitpid(-1, nullptr, __WALL) > 0) {
  }
  for (auto& c : cleanups())
    c();
  std::exit(1);
}

void exec(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    close_range(3, ~0U, 0);
    exec(argv);
  }
  if (pid < 0) fail(std::string("fork failed: ") + std::strerror(errno));
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid " + std::to_string(pid) + ": " + std::strerror(errno));
  }
  live().erase(pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run(const std::vector<std::string>& argv, const fs::path& log) {
  {
    std::ofstream line(log, std::ios::app);
    line << "$";
    for (const auto& a : argv)
      line << " " << a;
    line << "\n";
  }
  // Launchers leave signals ignored (nohup's SIGHUP), and an ignored signal stays so across
  // exec: ckpt runs with SIGUSR2 ignored, and what a restored process gets must still come
  // from its image (the signals tracee checks).
  struct sigaction ignore {};
  struct sigaction before {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGUSR2, &ignore, &before);
  const pid_t pid = spawn(argv, log);
  sigaction(SIGUSR2, &before, nullptr);
  return wait_exit(pid);
}

std::string wait_file(const fs::path& path, const std::string& what) {
  for (int i = 0; i < 3000; ++i) {
    if (fs::exists(path)) {
      std::string text = test_support::file_text(path);
      if (!text.empty()) return text;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fail(what + " never appeared");
}

void expect_pass(pid_t pid, const fs::path& outfile, const std::string& stage) {
  kill(pid, SIGTERM);
  int code = wait_exit(pid);
  std::string out = test_support::file_text(outfile);
  if (out.rfind("PASS", 0) != 0)
    fail(stage + ": tracee exited with " + std::to_string(code) +
         " and reported: " + (out.empty() ? "nothing" : out));
  fs::remove(outfile);
}

namespace {

std::string mappings_and_fds_now(pid_t pid) {
  fs::path proc = "/proc/" + std::to_string(pid);
  std::string out = test_support::file_text(proc / "maps");
  std::vector<std::string> fds;
  for (const auto& e : fs::directory_iterator(proc / "fd")) {
    std::error_code gone;
    const fs::path target = fs::read_symlink(e.path(), gone);
    if (!gone) fds.push_back(e.path().filename().string() + " -> " + target.string());
  }
  std::sort(fds.begin(), fds.end());
  for (const std::string& fd : fds)
    out += "fd " + fd + "\n";
  return out;
}

}  // namespace

std::string mappings_and_fds(pid_t pid) {
  // A tracee that just wrote its pidfile may still be settling (the namespace tracees close
  // what their launcher handed over): what it is, is what two reads agree on.
  std::string last = mappings_and_fds_now(pid);
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::string now = mappings_and_fds_now(pid);
    if (now == last) return now;
    last = std::move(now);
  }
  return last;
}

}  // namespace crossrig::ckpt_test
