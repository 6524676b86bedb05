#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {
volatile int g_stop = 0;
void on_term(int) {
  g_stop = 1;
}
}  // namespace

bool stop_requested() {
  return g_stop != 0;
}
const volatile int* stop_flag() {
  return &g_stop;
}

}  // namespace crossrig::tracee

namespace {

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int open_dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  return open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

// The pid the test driver knows this process by: /proc's, which differs from getpid() for a
// tracee that made a PID namespace of its own.
pid_t pid_seen_by_proc() {
  char link[32] = {};
  if (readlink("/proc/self", link, sizeof link - 1) <= 0) return getpid();
  return static_cast<pid_t>(std::stol(link));
}

void write_at(int dir, const std::string& name, const std::string& text) {
  int fd = openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!write(fd, text.data(), text.size());
  close(fd);
}

}  // namespace

using namespace crossrig::tracee;

int main(int argc, char** argv) {
  std::string pidfile, outfile;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--pidfile") == 0) pidfile = argv[i + 1];
    if (std::strcmp(argv[i], "--outfile") == 0) outfile = argv[i + 1];
  }
  if (pidfile.empty() || outfile.empty()) return 2;
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, nullptr);
  // Both files are written relative to fds of their directories, opened before setup: a
  // tracee may chroot itself away from their paths.
  int pid_dir = open_dir_of(pidfile), out_dir = open_dir_of(outfile);
  kTest.setup();
  {
    std::string text = std::to_string(pid_seen_by_proc()) + "\n", name = base_name(pidfile);
    write_at(pid_dir, name + ".tmp", text);
    renameat(pid_dir, (name + ".tmp").c_str(), pid_dir, name.c_str());
  }
  if (kTest.wait != nullptr) {
    sigprocmask(SIG_UNBLOCK, &term, nullptr);
    kTest.wait();
  } else {
    sigset_t all_but_term;
    sigprocmask(SIG_SETMASK, nullptr, &all_but_term);
    sigdelset(&all_but_term, SIGTERM);
    while (!stop_requested())
      sigsuspend(&all_but_term);
    sigprocmask(SIG_UNBLOCK, &term, nullptr);
  }
  auto why = kTest.check();
  write_at(out_dir, base_name(outfile), (why ? "FAIL: " + *why : std::string("PASS")) + "\n");
  return why ? 1 : 0;
}
