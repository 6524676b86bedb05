#include "tests/ckpt/two_hosts.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "tests/support/file_text.h"

namespace crossrig::ckpt_test {

namespace fs = std::filesystem;

namespace {

// By path: the tests exec without a PATH search.
constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kNsenter = "/usr/bin/nsenter";

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// The destination's init: its own /proc (so that ckpt there finds the pids of its namespace),
// then reaping until it is killed. Orphans of the destination come to it, whatever they were
// started by.
[[noreturn]] void be_init(int ready) {
  // The destination must not outlive a test that crashed.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int err = 0;
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    err = errno;
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  // Blocked, SIGCHLD stays pending for sigwaitinfo although its default is to be ignored.
  sigprocmask(SIG_BLOCK, &child, nullptr);
  (void)!write(ready, &err, sizeof err);
  close(ready);
  if (err != 0) _exit(1);
  // Holding none of the test's files: an end of a pipe kept here would keep its reader waiting.
  close_range(0, ~0U, 0);
  for (;;) {
    while (waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
    }
    sigwaitinfo(&child, nullptr);
  }
}

// Runs argv to its end; throws with what it printed unless it exits 0.
void run_or_throw(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe"));
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(open("/dev/null", O_RDONLY), 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    close_range(3, ~0U, 0);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  std::string said;
  char buf[512];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;)
    said.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    std::string command;
    for (const auto& a : argv)
      command += (command.empty() ? "" : " ") + a;
    throw std::runtime_error(command + " failed: " + (pid < 0 ? errno_text("fork") : said));
  }
}

// Gives dev its address and brings it and lo up, ip run through the command prefix ip.
void bring_up(const std::vector<std::string>& ip, const std::string& dev,
              const std::string& address) {
  auto run = [&](std::initializer_list<std::string> args) {
    std::vector<std::string> command = ip;
    command.insert(command.end(), args);
    run_or_throw(command);
  };
  run({"addr", "add", address + "/24", "dev", dev});
  run({"link", "set", dev, "up"});
  run({"link", "set", "lo", "up"});
}

// The pid in the innermost namespace from a /proc/PID/status text, or 0 for a zombie or a
// process gone while we read it.
pid_t innermost_pid(const std::string& status) {
  std::istringstream lines(status);
  pid_t pid = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("State:") && line.find('Z') != std::string::npos) return 0;
    if (!line.starts_with("NSpid:")) continue;
    std::istringstream fields(line.substr(6));
    for (pid_t p; fields >> p;)
      pid = p;
  }
  return pid;
}

}  // namespace

TwoHosts::TwoHosts() {
  if (unshare(CLONE_NEWNET) != 0) throw std::runtime_error(errno_text("unshare(CLONE_NEWNET)"));
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe"));
  // clone3 rather than fork and unshare: the init is our own child, which the teardown reaps.
  clone_args args{};
  args.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET;
  args.exit_signal = SIGCHLD;
  const long r = syscall(SYS_clone3, &args, sizeof args);
  if (r == 0) be_init(ready[1]);
  close(ready[1]);
  if (r < 0) {
    close(ready[0]);
    throw std::runtime_error(errno_text("clone3 of the destination's namespaces"));
  }
  init_ = static_cast<pid_t>(r);
  int err = -1;
  const bool told = read(ready[0], &err, sizeof err) == sizeof err;
  close(ready[0]);
  try {
    if (!told || err != 0)
      throw std::runtime_error("the destination's init cannot mount its /proc: " +
                               std::string(told ? std::strerror(err) : "it died"));
    const std::string init = std::to_string(init_);
    pid_ns_ = fs::read_symlink("/proc/" + init + "/ns/pid").string();
    run_or_throw(
        {kIp, "link", "add", "mig-src", "type", "veth", "peer", "name", "mig-dst", "netns", init});
    bring_up({kIp}, "mig-src", kSourceAddress);
    bring_up({kNsenter, "-t", init, "-n", kIp}, "mig-dst", kDestinationAddress);
  } catch (...) {
    kill(init_, SIGKILL);
    waitpid(init_, nullptr, 0);
    throw;
  }
}

TwoHosts::~TwoHosts() {
  kill(init_, SIGKILL);
  waitpid(init_, nullptr, 0);
}

std::vector<std::string> TwoHosts::inside(const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {kNsenter, "-t", std::to_string(init_), "-p", "-m", "-n", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

pid_t TwoHosts::find(pid_t ns_pid) const {
  const auto all = processes();
  const auto it = all.find(ns_pid);
  return it == all.end() ? 0 : it->second;
}

std::map<pid_t, pid_t> TwoHosts::processes() const {
  std::map<pid_t, pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code gone;
    if (fs::read_symlink(e.path() / "ns" / "pid", gone).string() != pid_ns_) continue;
    const pid_t there = innermost_pid(test_support::file_text(e.path() / "status"));
    if (there > 1) out[there] = std::stoi(name);
  }
  return out;
}

}  // namespace crossrig::ckpt_test
