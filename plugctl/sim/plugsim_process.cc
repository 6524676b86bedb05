#include "plugctl/sim/plugsim_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/unique_fd.h"

extern char** environ;

namespace crossrig::plugsim {

namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  UniqueFd read, write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for pid until the deadline; nullopt if it is still running.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status_code(status);
    if (r < 0) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd,
            const std::vector<std::string>& extra_env) {
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args)
    cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    env.emplace_back(*e);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> cenv;
  for (auto& e : env)
    cenv.push_back(e.data());
  cenv.push_back(nullptr);
  Pipe exec_error = make_pipe();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls until exec: the test process may have threads.
    // A test that dies must not leave its plugsims behind: they get SIGTERM with it.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    int err = errno;
    (void)!::write(exec_error.write.get(), &err, sizeof err);
    ::_exit(127);
  }
  exec_error.write.reset();
  int err = 0;
  if (::read(exec_error.read.get(), &err, sizeof err) == static_cast<ssize_t>(sizeof err)) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(err));
  }
  return pid;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

PlugsimProcess::PlugsimProcess(const std::string& binary, const std::vector<std::string>& args,
                               const std::vector<std::string>& launcher) {
  std::size_t expected = 0;
  for (const auto& a : args)
    expected += a == "--device" || a == "-d";
  char tmpl[] = "/tmp/plugsim-stderr-XXXXXX";
  UniqueFd err(::mkstemp(tmpl));
  stderr_path_ = tmpl;
  Pipe out = make_pipe();
  std::vector<std::string> argv = launcher;
  argv.push_back(binary);
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = spawn(argv, out.write.get(), err.get(), {});
  out.write.reset();

  std::string buffered;
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (devices_.size() < expected) {
    std::size_t eol = buffered.find('\n');
    if (eol != std::string::npos) {
      devices_.push_back(nlohmann::json::parse(buffered.substr(0, eol)));
      buffered.erase(0, eol + 1);
      continue;
    }
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{out.read.get(), POLLIN, 0};
    char buf[4096];
    ssize_t n = left > 0 && ::poll(&p, 1, static_cast<int>(left)) > 0
                    ? ::read(out.read.get(), buf, sizeof buf)
                    : -1;
    if (n <= 0) {
      int status = stop(std::chrono::seconds(2));
      throw std::runtime_error("plugsim did not become ready (exit status " +
                               std::to_string(status) + "); its stderr: " + stderr_text());
    }
    buffered.append(buf, static_cast<std::size_t>(n));
  }
}

PlugsimProcess::~PlugsimProcess() {
  stop();
  if (!stderr_path_.empty()) ::unlink(stderr_path_.c_str());
}

int PlugsimProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto status = wait_until(pid_, Clock::now() + grace);
  if (!status) {
    ::kill(pid_, SIGKILL);
    wait_until(pid_, Clock::now() + std::chrono::seconds(10));
    status = -1;
  }
  pid_ = -1;
  return *status;
}

std::string PlugsimProcess::stderr_text() const {
  return read_file(stderr_path_);
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds limit,
                          const std::vector<std::string>& extra_env) {
  Pipe out = make_pipe(), err = make_pipe();
  pid_t pid = spawn(argv, out.write.get(), err.write.get(), extra_env);
  out.write.reset();
  err.write.reset();
  CommandResult result;
  auto deadline = Clock::now() + limit;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p[2] = {{out_open ? out.read.get() : -1, POLLIN, 0},
                   {err_open ? err.read.get() : -1, POLLIN, 0}};
    if (::poll(p, 2, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (!p[i].revents) continue;
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        (i == 0 ? out_open : err_open) = false;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  auto status = wait_until(pid, deadline);
  if (!status) {
    ::kill(pid, SIGKILL);
    status = wait_until(pid, Clock::now() + std::chrono::seconds(10)).value_or(-1);
    result.err += "\n[killed after " + std::to_string(limit.count()) + " ms]";
  }
  result.exit_code = *status;
  return result;
}

}  // namespace crossrig::plugsim
