// A deeper tree, as a job control shell and daemons leave one: grandchildren whose parents
// wait for them in wait4, a pipeline sharing the first command's process group, a second
// session with its own child, a stopped child that must stay stopped until a SIGCONT, and an
// orphan re-parented to the root, a child subreaper. Each process checks its own ids and
// reports through its exit code.
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

// Shared with every process of the tree: their pids and how many have set themselves up.
struct Board {
  volatile pid_t group_leader, grandchild, piped, session_leader, session_child, stopped, orphan;
  volatile int ready;
};
Board* g_board = nullptr;
pid_t g_root = -1, g_root_sid = -1;
int g_wake[2] = {-1, -1};  // the root wakes the stopped child through it
volatile sig_atomic_t g_continued = 0;

void on_cont(int) {
  g_continued = g_continued + 1;
}

void announce() {
  __atomic_add_fetch(&g_board->ready, 1, __ATOMIC_SEQ_CST);
}

void sleep_until_term() {
  sigset_t mask;
  sigprocmask(SIG_SETMASK, nullptr, &mask);
  sigdelset(&mask, SIGTERM);
  while (!stop_requested())
    sigsuspend(&mask);
}

// The exit code child reported through wait4, or minus the signal that killed it.
int exit_code_of(pid_t child) {
  int status = 0;
  if (waitpid(child, &status, 0) != child) return -1000;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// A process group leader whose child it waits for; the child exits with 5 if its ids hold.
[[noreturn]] void group_leader() {
  setpgid(0, 0);
  pid_t self = getpid();
  pid_t child = fork();
  if (child == 0) {
    announce();
    sleep_until_term();
    _exit(getpgrp() == self && getppid() == self && getsid(0) == g_root_sid ? 5 : 6);
  }
  g_board->grandchild = child;
  announce();
  int code = exit_code_of(child);  // blocked here in wait4 while checkpointed
  _exit(code == 5 && getpgrp() == self ? 0 : 1);
}

// The second command of a pipeline: in the first one's process group.
[[noreturn]] void piped(pid_t leader) {
  setpgid(0, leader);
  announce();
  sleep_until_term();
  _exit(getpgrp() == leader && getsid(0) == g_root_sid ? 0 : 1);
}

// A session leader (a daemon that kept its leader) with a child of its session.
[[noreturn]] void session_leader() {
  setsid();
  pid_t self = getpid();
  pid_t child = fork();
  if (child == 0) {
    announce();
    sleep_until_term();
    _exit(getsid(0) == self && getpgrp() == self && getppid() == self ? 0 : 1);
  }
  g_board->session_child = child;
  announce();
  int code = exit_code_of(child);
  _exit(code == 0 && getsid(0) == self ? 0 : 1);
}

// Stopped by the root while blocked in read(); after the SIGCONT its handler runs once and
// the read, restarted (SA_RESTART), returns the byte the root writes then.
[[noreturn]] void stopped() {
  struct sigaction sa {};
  sa.sa_handler = on_cont;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGCONT, &sa, nullptr);
  announce();
  char byte = 0;
  ssize_t n = read(g_wake[0], &byte, 1);
  _exit(n == 1 && byte == 'c' && g_continued == 1 ? 0 : 1);
}

// Orphaned by its parent's exit and re-parented to the root, the subreaper.
[[noreturn]] void orphan() {
  announce();
  sleep_until_term();
  _exit(getppid() == g_root ? 0 : 1);
}

template <typename F>
pid_t spawn(F body) {
  pid_t pid = fork();
  if (pid == 0) body();
  return pid;
}

char state_of(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
}

void setup() {
  g_board = static_cast<Board*>(
      mmap(nullptr, sizeof(Board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  g_root = getpid();
  g_root_sid = getsid(0);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  pipe(g_wake);
  // As a shell does, the parent too puts each in its group, so neither waits on the other.
  g_board->group_leader = spawn(group_leader);
  setpgid(g_board->group_leader, g_board->group_leader);
  g_board->piped = spawn([] { piped(g_board->group_leader); });
  setpgid(g_board->piped, g_board->group_leader);
  g_board->session_leader = spawn(session_leader);
  g_board->stopped = spawn(stopped);
  pid_t parent = spawn([] {
    g_board->orphan = spawn(orphan);
    _exit(0);
  });
  waitpid(parent, nullptr, 0);
  while (g_board->ready < 7)
    usleep(1000);
  kill(g_board->stopped, SIGSTOP);
  waitpid(g_board->stopped, nullptr, WUNTRACED);
}

std::optional<std::string> check_tree() {
  const Board& b = *g_board;
  int subreaper = 0;
  prctl(PR_GET_CHILD_SUBREAPER, &subreaper);
  if (subreaper != 1) return std::string("the root is no longer a child subreaper");
  for (pid_t p : {b.group_leader, b.grandchild, b.piped}) {
    if (getpgid(p) != b.group_leader)
      return "process " + std::to_string(p) + " left process group " +
             std::to_string(b.group_leader) + " for " + std::to_string(getpgid(p));
  }
  for (pid_t p : {b.session_leader, b.session_child}) {
    if (getsid(p) != b.session_leader)
      return "process " + std::to_string(p) + " left session " + std::to_string(b.session_leader) +
             " for " + std::to_string(getsid(p));
  }
  // The stop is entered as soon as the restored process is let go; give it a moment.
  char state = state_of(b.stopped);
  for (int i = 0; i < 2000 && state != 'T'; ++i) {
    usleep(1000);
    state = state_of(b.stopped);
  }
  if (state != 'T')
    return std::string("the stopped child is in state ") + state + ", not stopped (T)";
  kill(b.stopped, SIGCONT);
  if (write(g_wake[1], "c", 1) != 1) return std::string("cannot wake the stopped child");
  for (pid_t p : {b.grandchild, b.piped, b.session_child, b.orphan})
    kill(p, SIGTERM);
  const struct {
    const char* what;
    pid_t pid;
  } children[] = {{"group leader waiting for its child", b.group_leader},
                  {"piped command", b.piped},
                  {"session leader waiting for its child", b.session_leader},
                  {"stopped child", b.stopped},
                  {"orphan", b.orphan}};
  for (const auto& c : children) {
    if (int code = exit_code_of(c.pid); code != 0)
      return std::string("the ") + c.what + " (" + std::to_string(c.pid) + ") reported " +
             std::to_string(code);
  }
  return std::nullopt;
}

// A failed check takes the whole tree down with it, so nothing is left waiting.
std::optional<std::string> check() {
  auto why = check_tree();
  if (why) {
    const Board& b = *g_board;
    for (pid_t p : {b.group_leader, b.grandchild, b.piped, b.session_leader, b.session_child,
                    b.stopped, b.orphan})
      kill(p, SIGKILL);
    while (wait(nullptr) > 0) {
    }
  }
  return why;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
