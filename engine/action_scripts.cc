#include "engine/action_scripts.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "engine/ckpt_error.h"

extern char** environ;

namespace crossrig::engine {
namespace {

constexpr std::string_view kVariables[] = {
    "CKPT_SCRIPT_ACTION=", "CKPT_INIT_PID=", "CKPT_IMAGE_DIR="};

// What a failure at this point leaves, for the message: the callers roll back accordingly.
std::string_view consequence(ScriptAction action) {
  switch (action) {
    case ScriptAction::kPreDump:
      return "the dump is abandoned before any process was touched";
    case ScriptAction::kPostDump:
      return "the dump is abandoned, its image removed, and the processes run on as before";
    case ScriptAction::kPreRestore:
      return "nothing was restored";
    case ScriptAction::kPostRestore:
      return "the restored processes were killed before they ran";
    case ScriptAction::kPostResume:
      break;
  }
  return "ignored: the restored processes already run";
}

// The inode of a namespace file, which names the namespace.
ino_t namespace_inode(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// Whether the calling thread's network namespace is another than the one of fd.
bool left_namespace(int fd) {
  UniqueFd now(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  return now && namespace_inode(now.get()) != namespace_inode(fd);
}

// Starts path and waits for it: its wait status, or the errno of the exec that failed
// (negated).
int run_one(const std::string& path, const std::vector<std::string>& env, int home_net) {
  std::vector<char*> envp;
  for (const std::string& e : env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
  const bool rejoin = home_net >= 0 && left_namespace(home_net);
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) throw_errno("opening /dev/null for action script " + path);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("a pipe for action script " + path);
  UniqueFd exec_errno(p[0]), exec_errno_w(p[1]);
  const pid_t child = ::fork();
  if (child < 0) throw_errno("forking action script " + path);
  if (child == 0) {
    // Only async-signal-safe calls here: ckpt may have other threads.
    int err = 0;
    if (rejoin && ::setns(home_net, CLONE_NEWNET) != 0) err = errno;
    if (err == 0 && ::dup2(null.get(), STDIN_FILENO) < 0) err = errno;
    if (err == 0) {
      // ckpt blocks and ignores signals while it holds processes; the script starts clean.
      sigset_t none;
      ::sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGPIPE, &dfl, nullptr);
      // Descriptors ckpt holds (images, the tree's pipes) must not outlive the exec: a script
      // that kept a pipe's end open would hold up the restored reader. Kernels before 5.11
      // lack the flag; ckpt opens its own descriptors close-on-exec.
      ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
      ::execve(path.c_str(), argv, envp.data());
      err = errno;
    }
    [[maybe_unused]] const ssize_t n = ::write(exec_errno_w.get(), &err, sizeof err);
    ::_exit(127);
  }
  exec_errno_w.reset();
  int err = 0;
  ssize_t got;
  while ((got = ::read(exec_errno.get(), &err, sizeof err)) < 0 && errno == EINTR) {
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waiting for action script " + path);
  }
  return got == static_cast<ssize_t>(sizeof err) ? -err : status;
}

}  // namespace

std::string_view action_name(ScriptAction action) {
  switch (action) {
    case ScriptAction::kPreDump:
      return "pre-dump";
    case ScriptAction::kPostDump:
      return "post-dump";
    case ScriptAction::kPreRestore:
      return "pre-restore";
    case ScriptAction::kPostRestore:
      return "post-restore";
    case ScriptAction::kPostResume:
      break;
  }
  return "post-resume";
}

std::vector<std::string> script_environment(const std::vector<std::string>& inherited,
                                            ScriptAction action, pid_t pid,
                                            const std::string& image_dir) {
  std::vector<std::string> env;
  for (const std::string& e : inherited) {
    bool ours = false;
    for (std::string_view v : kVariables)
      ours = ours || e.starts_with(v);
    if (!ours) env.push_back(e);
  }
  std::filesystem::path dir = std::filesystem::absolute(image_dir).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  env.push_back(std::string(kVariables[0]) + std::string(action_name(action)));
  env.push_back(std::string(kVariables[1]) + std::to_string(pid));
  env.push_back(std::string(kVariables[2]) + dir.string());
  return env;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

ActionScripts::ActionScripts(std::vector<std::string> paths) : paths_(std::move(paths)) {
  if (paths_.empty()) return;
  home_net_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home_net_) throw_errno("opening ckpt's network namespace for the action scripts");
}

void ActionScripts::run(ScriptAction action, pid_t pid, const std::string& image_dir) const {
  if (paths_.empty()) return;
  std::vector<std::string> inherited;
  for (char** e = environ; *e != nullptr; ++e)
    inherited.emplace_back(*e);
  const std::vector<std::string> env = script_environment(inherited, action, pid, image_dir);
  const std::string at = " at " + std::string(action_name(action)) + " of process " +
                         std::to_string(pid) + ": " + std::string(consequence(action));
  for (const std::string& path : paths_) {
    const int r = run_one(path, env, home_net_.get());
    std::string failure;
    if (r < 0) {
      failure = "action script " + path + " could not be run (" + std::strerror(-r) +
                "; it must be an executable file, a script with a #! line)" + at;
    } else if (!(WIFEXITED(r) && WEXITSTATUS(r) == 0)) {
      failure = "action script " + path + " " + describe_wait_status(r) + at;
    }
    if (failure.empty()) continue;
    if (action != ScriptAction::kPostResume) throw CkptError(CkptError::kSystem, failure);
    std::cerr << "ckpt: " << failure << "\n";
  }
}

}  // namespace crossrig::engine
