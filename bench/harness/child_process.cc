#include "bench/harness/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;

namespace crossrig::bench {
namespace {

// This process's environment with the "NAME=value" entries of extra replacing or added.
std::vector<char*> environment_with(std::vector<std::string>& extra) {
  std::vector<char*> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool replaced = false;
    for (const auto& x : extra) {
      auto name = x.substr(0, x.find('=') + 1);
      replaced = replaced || entry.starts_with(name);
    }
    if (!replaced) out.push_back(*e);
  }
  for (auto& x : extra)
    out.push_back(x.data());
  out.push_back(nullptr);
  return out;
}

// In the child: only async-signal-safe calls until exec, so a threaded parent is safe.
[[noreturn]] void exec_child(const std::vector<char*>& argv, const std::vector<char*>& envp,
                             const ChildOptions& o, pid_t parent) {
  if (o.parent_death_signal != 0) {
    prctl(PR_SET_PDEATHSIG, o.parent_death_signal);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
  }
  if (o.stdio_fd >= 0) {
    setsid();
    ioctl(o.stdio_fd, TIOCSCTTY, 0);
    for (int fd : {0, 1, 2})
      dup2(o.stdio_fd, fd);
  } else {
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    if (!o.out.empty()) dup2(open(o.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 1);
    if (!o.err.empty() && o.err == o.out) {
      dup2(1, 2);
    } else if (!o.err.empty()) {
      dup2(open(o.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 2);
    }
  }
  execvpe(argv[0], argv.data(), envp.data());
  _exit(127);
}

}  // namespace

int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, ChildOptions options)
    : stop_signal_(options.stop_signal == 0 ? SIGKILL : options.stop_signal) {
  if (argv.empty()) throw std::runtime_error("ChildProcess: no program given");
  // Built before fork: the child may not allocate (another thread may hold malloc's lock).
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp = environment_with(options.env);
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork for " + argv[0] + ": " + std::strerror(errno));
  if (pid_ == 0) exec_child(args, envp, options, parent);
}

ChildProcess::~ChildProcess() {
  if (exit_code_ < 0) stop(stop_signal_);
}

bool ChildProcess::running() const {
  if (exit_code_ >= 0) return false;
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

void ChildProcess::signal(int sig) const {
  if (exit_code_ < 0) kill(pid_, sig);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (exit_code_ < 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = exit_code_of(status);
      break;
    }
    if (std::chrono::steady_clock::now() > end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_code_;
}

int ChildProcess::wait() {
  while (exit_code_ < 0) {
    int status = 0;
    if (waitpid(pid_, &status, 0) == pid_)
      exit_code_ = exit_code_of(status);
    else if (errno != EINTR)
      break;
  }
  return exit_code_;
}

int ChildProcess::stop(int sig) {
  signal(sig);
  return wait();
}

}  // namespace crossrig::bench
