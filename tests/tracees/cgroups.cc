// A process in a cgroup of its own, limited by pids.max, and its child in a cgroup below that
// one: after a restore with --manage-cgroups both are back in them and the limit holds.
// The cgroups are on the pids controller's hierarchy, v1 (/sys/fs/cgroup/pids on a hybrid
// host) or v2, found through /proc/self/mountinfo; named by the pid, so runs never share one.
// check() removes them: the restore after a --leave-running dump finds them gone and must make
// them again with the limit (soft mode), while the one after a plain dump, whose tasks were
// killed, finds them still there and joins them.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr const char* kLimit = "32";

std::string g_error;     // why setup failed, reported by check()
bool g_v2 = false;       // the pids controller is on cgroup v2
std::string g_home;      // the tracee's own cgroup's path in that hierarchy before setup
std::string g_home_dir;  // and its directory
std::string g_cgroup;    // the cgroup made for the tracee, g_home/crossrig-cgroups-PID
std::string g_dir;       // and its directory
pid_t g_child = -1;      // in g_dir/child

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

bool write_text(const std::string& path, const std::string& text, std::string& why) {
  std::ofstream f(path);
  f << text << std::flush;
  if (f) return true;
  why = "cannot write '" + text + "' into " + path + ": " + std::strerror(errno);
  return false;
}

std::vector<std::string> words(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string w; std::getline(ss, w, sep);)
    out.push_back(w);
  return out;
}

// The path of process pid's cgroup in the pids hierarchy ("" for v2's line, "pids" for v1's).
std::string cgroup_of(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(f, line);) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    std::vector<std::string> ctls = words(line.substr(first + 1, second - first - 1), ',');
    bool pids = g_v2 ? ctls.empty() : std::find(ctls.begin(), ctls.end(), "pids") != ctls.end();
    if (pids) return line.substr(second + 1);
  }
  return "(none)";
}

// Where the pids controller is mounted: a v1 hierarchy of its own, else cgroup v2 when its
// root offers it. Mount roots other than "/" (a container's view) are not handled.
bool find_pids_mount(std::string& mountpoint) {
  std::ifstream f("/proc/self/mountinfo");
  std::string v2;
  for (std::string line; std::getline(f, line);) {
    std::vector<std::string> w = words(line, ' ');
    auto dash = std::find(w.begin(), w.end(), "-");
    if (w.size() < 5 || w.end() - dash < 4 || w[3] != "/") continue;
    std::vector<std::string> opts = words(dash[3], ',');
    if (dash[1] == "cgroup" && std::find(opts.begin(), opts.end(), "pids") != opts.end()) {
      mountpoint = w[4];
      return true;
    }
    if (dash[1] == "cgroup2" && v2.empty()) v2 = w[4];
  }
  if (v2.empty()) return false;
  g_v2 = true;
  mountpoint = v2;
  return true;
}

void child_main() {
  sigset_t wait_mask;
  sigprocmask(SIG_SETMASK, nullptr, &wait_mask);
  sigdelset(&wait_mask, SIGTERM);
  while (!stop_requested())
    sigsuspend(&wait_mask);
  _exit(0);
}

void setup() {
  std::string mountpoint;
  if (!find_pids_mount(mountpoint)) {
    g_error = "no cgroup v1 pids hierarchy nor cgroup2 is mounted (see /proc/self/mountinfo)";
    return;
  }
  g_home = cgroup_of(getpid());
  g_home_dir = mountpoint + (g_home == "/" ? "" : g_home);
  if (g_v2) {
    // A v2 cgroup has a pids.max only when its parent enables the controller for its children.
    // Left enabled: the restore after a --leave-running dump makes the cgroup again.
    std::vector<std::string> enabled =
        words(read_text(g_home_dir + "/cgroup.subtree_control"), ' ');
    if (std::find(enabled.begin(), enabled.end(), "pids") == enabled.end() &&
        !write_text(g_home_dir + "/cgroup.subtree_control", "+pids", g_error)) {
      g_error += " (the pids controller must be available in " + g_home_dir +
                 "/cgroup.controllers, and a non-root cgroup must hold no process to enable it)";
      return;
    }
  }
  const std::string name = "crossrig-cgroups-" + std::to_string(getpid());
  g_cgroup = g_home + (g_home == "/" ? "" : "/") + name;
  g_dir = g_home_dir + "/" + name;
  if (mkdir(g_dir.c_str(), 0755) != 0 || mkdir((g_dir + "/child").c_str(), 0755) != 0) {
    g_error = "cannot make cgroup " + g_dir + " and its child: " + std::strerror(errno);
    return;
  }
  if (!write_text(g_dir + "/pids.max", kLimit, g_error)) return;
  g_child = fork();
  if (g_child == 0) child_main();
  if (!write_text(g_dir + "/cgroup.procs", std::to_string(getpid()), g_error) ||
      !write_text(g_dir + "/child/cgroup.procs", std::to_string(g_child), g_error))
    g_error += " (run as root)";
}

// Takes both processes out of the cgroups and removes them; returns why not, or "".
std::string clean_up() {
  std::string why;
  if (g_child > 0) {
    kill(g_child, SIGTERM);
    int status = 0;
    if (waitpid(g_child, &status, 0) != g_child)
      why = "child " + std::to_string(g_child) + " is gone";
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      why = "child exited with status " + std::to_string(status);
  }
  std::string ignored;
  write_text(g_home_dir + "/cgroup.procs", std::to_string(getpid()), ignored);
  for (const std::string& dir : {g_dir + "/child", g_dir}) {
    if (rmdir(dir.c_str()) != 0 && errno != ENOENT && why.empty())
      why = "cannot remove cgroup " + dir + ": " + std::strerror(errno);
  }
  return why;
}

std::optional<std::string> check() {
  if (!g_error.empty()) {
    if (!g_dir.empty()) clean_up();
    return "setup failed: " + g_error;
  }
  const std::string& cg = g_cgroup;
  std::string why;
  if (std::string got = cgroup_of(getpid()); got != cg)
    why = "the process is in pids cgroup " + got + ", not " + cg;
  else if (std::string got_child = cgroup_of(g_child); got_child != cg + "/child")
    why = "the child is in pids cgroup " + got_child + ", not " + cg + "/child";
  else if (std::string limit = read_text(g_dir + "/pids.max"); limit != kLimit)
    why = g_dir + "/pids.max is '" + limit + "', not " + kLimit;
  std::string cleanup = clean_up();
  if (!why.empty()) return why;
  if (!cleanup.empty()) return cleanup;
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
