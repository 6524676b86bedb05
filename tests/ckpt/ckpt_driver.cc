// Runs one tracee through checkpoint/restore as CRIU's zdtm does:
//   start → dump → (killed by the dump) → restore with the same PID → SIGTERM → expect PASS
// or with --leave-running: start → dump --leave-running → SIGTERM → expect PASS, then restore
// the image → SIGTERM → expect PASS again.
// It is a child subreaper, so the restored task (whose parent, ckpt restore -d, exits) is
// reparented to it and reaped here. Every process it started is killed on failure.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::set<pid_t> g_live;  // processes to kill if the driver gives up

[[noreturn]] void fail(const std::string& why) {
  std::cerr << "FAIL: " << why << "\n";
  for (pid_t p : g_live)
    kill(p, SIGKILL);
  while (waitpid(-1, nullptr, 0) > 0) {
  }
  std::exit(1);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd = {}) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    close_range(3, ~0U, 0);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) fail("fork failed");
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid " + std::to_string(pid) + ": " + std::strerror(errno));
  }
  g_live.erase(pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run(const std::vector<std::string>& argv, const fs::path& log) {
  std::ofstream(log, std::ios::app) << "$";
  for (const auto& a : argv)
    std::ofstream(log, std::ios::app) << " " << a;
  std::ofstream(log, std::ios::app) << "\n";
  return wait_exit(spawn(argv, log));
}

// Waits for the tracee's pidfile; the bound only stops a broken tracee from hanging ctest.
pid_t wait_pidfile(const fs::path& pidfile, pid_t child) {
  for (int i = 0; i < 3000; ++i) {
    if (fs::exists(pidfile)) return std::stoi(slurp(pidfile));
    if (waitpid(child, nullptr, WNOHANG) == child) {
      g_live.erase(child);
      fail("tracee exited before writing its pidfile");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fail("tracee wrote no pidfile");
}

void expect_pass(pid_t pid, const fs::path& outfile, const std::string& stage) {
  kill(pid, SIGTERM);
  int code = wait_exit(pid);
  std::string out = slurp(outfile);
  if (out.rfind("PASS", 0) != 0)
    fail(stage + ": tracee exited with " + std::to_string(code) +
         " and reported: " + (out.empty() ? "nothing" : out));
  fs::remove(outfile);
}

void restore_and_check(const std::string& ckpt, const fs::path& img, pid_t pid,
                       const fs::path& work, const fs::path& outfile, const fs::path& log) {
  fs::path rpid = work / "restored.pid";
  g_live.insert(pid);
  int rc = run({ckpt, "restore", "-D", img.string(), "-d", "--pidfile", rpid.string()}, log);
  if (rc != 0) {
    g_live.erase(pid);
    fail("ckpt restore exited with " + std::to_string(rc) + "; log:\n" + slurp(log));
  }
  if (std::stoi(slurp(rpid)) != pid)
    fail("restored with PID " + slurp(rpid) + ", not " + std::to_string(pid));
  expect_pass(pid, outfile, "after restore");
}

}  // namespace

int main(int argc, char** argv) {
  std::string ckpt, tracee, workdir;
  bool leave_running = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--leave-running")
      leave_running = true;
    else if (i + 1 < argc && a == "--ckpt")
      ckpt = argv[++i];
    else if (i + 1 < argc && a == "--tracee")
      tracee = argv[++i];
    else if (i + 1 < argc && a == "--workdir")
      workdir = argv[++i];
  }
  if (ckpt.empty() || tracee.empty() || workdir.empty()) {
    std::cerr << "usage: ckpt_driver --ckpt PATH --tracee PATH --workdir DIR [--leave-running]\n";
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail("cannot become a child subreaper");
  fs::path work = workdir;
  fs::remove_all(work);
  fs::create_directories(work);
  fs::path pidfile = work / "tracee.pid", outfile = work / "tracee.out", img = work / "img",
           log = work / "log.txt";

  pid_t child =
      spawn({tracee, "--pidfile", pidfile.string(), "--outfile", outfile.string()}, log, work);
  g_live.insert(child);
  pid_t pid = wait_pidfile(pidfile, child);

  std::vector<std::string> dump = {ckpt, "dump", "-t", std::to_string(pid), "-D", img.string()};
  if (leave_running) dump.push_back("--leave-running");
  int rc = run(dump, log);
  if (rc != 0) fail("ckpt dump exited with " + std::to_string(rc) + "; log:\n" + slurp(log));
  if (leave_running) {
    expect_pass(pid, outfile, "after dump --leave-running");
  } else {
    int code = wait_exit(pid);
    if (code != 128 + SIGKILL)
      fail("dumped tracee exited with " + std::to_string(code) + ", not killed");
  }
  restore_and_check(ckpt, img, pid, work, outfile, log);
  fs::remove_all(work);
  std::cout << "PASS\n";
  return 0;
}
