#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace crossrig::bench {

/// Where a child's standard streams go and what else it gets; the default is stdin from
/// /dev/null and stdout and stderr inherited.
struct ChildOptions {
  std::filesystem::path out;     ///< File (truncated) for stdout; empty: inherited.
  std::filesystem::path err;     ///< File for stderr (the same as out: shared); empty: inherited.
  int stdio_fd = -1;             ///< When >= 0 (a pty or a pipe): stdin, stdout and stderr, and
                                 ///< the child leads a new session with it as controlling tty.
  std::vector<std::string> env;  ///< "NAME=value" entries added to the environment.
  int parent_death_signal = 0;   ///< Sent to the child if this process dies; 0: none.
  int stop_signal = 0;           ///< Sent when destroyed still running (then reaped); 0: SIGKILL.
};

/// A program started with fork and exec (argv[0] is looked up in PATH), for the benchmarks'
/// servers and the integration tests' processes. Destroying it stops and reaps the child.
class ChildProcess {
 public:
  /// Starts argv; throws std::runtime_error when fork fails (an exec failure exits 127).
  ChildProcess(const std::vector<std::string>& argv, ChildOptions options = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// True while the child has not exited (it is not reaped by asking).
  bool running() const;
  /// Sends a signal, unless the child was already reaped.
  void signal(int sig) const;
  /// Waits up to timeout; the exit code (128+signal when killed), or -1 if it still runs.
  int wait(std::chrono::milliseconds timeout);
  /// Waits however long it takes; the exit code as wait() gives it.
  int wait();
  /// Sends sig and waits for the exit; the exit code.
  int stop(int sig);

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  int stop_signal_ = 0;
};

/// The exit code a shell would show for a waitpid status: 128+signal when killed.
int exit_code_of(int status);

}  // namespace crossrig::bench
