#include "rig/lab/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/unique_fd.h"

namespace crossrig::rig::lab {

namespace {

// Only async-signal-safe calls between fork and exec: everything that allocates is made
// before the fork (moved has one slot per entry of fds).
[[noreturn]] void exec_child(const std::vector<char*>& argv, int out_fd,
                             const std::vector<std::pair<int, int>>& fds, std::vector<int>& moved) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  (void)signal(SIGPIPE, SIG_DFL);
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0);
  dup2(out_fd >= 0 ? out_fd : null, 1);
  dup2(out_fd >= 0 ? out_fd : null, 2);
  // First move every inherited descriptor out of the way of the targets, then place them.
  for (std::size_t i = 0; i < fds.size(); ++i)
    moved[i] = fcntl(fds[i].first, F_DUPFD_CLOEXEC, 100);
  for (std::size_t i = 0; i < fds.size(); ++i)
    dup2(moved[i], fds[i].second);
  execvp(argv[0], argv.data());
  _exit(127);
}

// Starts argv with its stdout and stderr on out_fd (/dev/null when -1) and fds placed.
pid_t fork_exec(const std::vector<std::string>& argv, int out_fd,
                const std::vector<std::pair<int, int>>& fds) {
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  cargs.reserve(args.size() + 1);
  for (auto& a : args)
    cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::vector<int> moved(fds.size(), -1);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("cannot fork for " + argv[0] + ": " + std::strerror(errno));
  if (pid == 0) exec_child(cargs, out_fd, fds, moved);
  return pid;
}

}  // namespace

std::string command_text(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& a : argv) {
    if (!text.empty()) text += ' ';
    text += a;
  }
  return text;
}

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  crossrig::UniqueFd out;
  if (!options.log_file.empty()) {
    out.reset(open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!out) {
      throw std::runtime_error("cannot open " + options.log_file + ": " + std::strerror(errno));
    }
  }
  return fork_exec(argv, out.get(), options.fds);
}

void run_to_end(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
  crossrig::UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  pid_t pid = fork_exec(argv, write_end.get(), {});
  write_end.reset();
  std::string output;
  char buf[4096];
  for (;;) {
    ssize_t n = read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < 16384) output.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!output.empty() && output.back() == '\n')
      output.pop_back();
    std::string why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                        : "signal " + std::to_string(WTERMSIG(status));
    throw std::runtime_error("`" + command_text(argv) + "` failed (" + why + ")" +
                             (output.empty() ? "" : ": " + output));
  }
}

}  // namespace crossrig::rig::lab
