#include "rig/power/shell_run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/net_io.h"
#include "common/unique_fd.h"

namespace crossrig::rig {

namespace {

constexpr std::size_t kMaxOutput = std::size_t{64} * 1024;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

[[noreturn]] void exec_child(const std::string& command, int out_fd) {
  setpgid(0, 0);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
  _exit(127);
}

}  // namespace

ShellResult run_shell(const std::string& command, std::chrono::milliseconds timeout) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
  crossrig::UniqueFd read_end(fds[0]), write_end(fds[1]);
  pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) exec_child(command, write_end.get());
  // Both sides set the group so a kill right after fork cannot miss it.
  setpgid(pid, pid);
  write_end = crossrig::UniqueFd();

  ShellResult result;
  crossrig::Deadline deadline(timeout);
  char buf[4096];
  for (;;) {
    pollfd p{read_end.get(), POLLIN, 0};
    int ready = poll(&p, 1, deadline.remaining_ms());
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      result.timed_out = true;
      break;
    }
    ssize_t n = read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (result.output.size() < kMaxOutput) {
      result.output.append(
          buf, std::min(static_cast<std::size_t>(n), kMaxOutput - result.output.size()));
    }
  }
  int status = 0;
  if (result.timed_out) {
    kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return result;
  }
  // The output closed: the command is done, or it left a daemon holding the pipe. Wait for it
  // within what is left of the time, then kill the group.
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw_errno("waitpid");
    if (deadline.expired()) {
      kill(-pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      result.timed_out = true;
      return result;
    }
    usleep(5000);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace crossrig::rig
