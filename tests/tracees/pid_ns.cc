// A process started as the init of a PID namespace of its own, as `unshare --pid --fork`
// starts one (the process the driver launched makes the namespace, forks its init and leaves
// once the init wrote its pidfile), with a tree inside: a child leading a process group
// with a grandchild in it, an orphan the init adopted that joined that group, a thread, a POSIX
// timer that signals that thread by its tid, and signals pending for the process and for the
// thread. Every pid must come back as the tree knows it, inside the namespace, and as ckpt knows
// it, outside.
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/tracees/namespace_init.h"

namespace crossrig::tracee {
namespace {

int g_release = -1;  // closed once the pidfile is written: the launcher may leave then
pid_t g_leader = -1, g_orphan = -1, g_thread_tid = -1;
std::atomic<bool> g_thread_stop{false};
std::atomic<pid_t> g_thread_tid_after{-1};
std::atomic<bool> g_thread_signal_pending{false};
std::thread* g_thread = nullptr;
timer_t g_timer{};

// Exits with a bit set for each thing that did not hold.
[[noreturn]] void grandchild(pid_t leader) {
  wait_for_term();
  _exit((getppid() == leader ? 0 : 1) | (getpgrp() == leader ? 0 : 2));
}

[[noreturn]] void group_leader() {
  const pid_t self = getpid();
  setpgid(0, 0);
  pid_t grandchild_pid = fork();
  if (grandchild_pid == 0) grandchild(self);
  setpgid(grandchild_pid, self);
  wait_for_term();
  kill(grandchild_pid, SIGTERM);
  int status = 0;
  const bool reaped = waitpid(grandchild_pid, &status, 0) == grandchild_pid;
  _exit((getpid() == self ? 0 : 4) | (getppid() == 1 ? 0 : 8) | (getpgrp() == self ? 0 : 16) |
        (reaped && WIFEXITED(status) ? WEXITSTATUS(status) : 32));
}

void setup() {
  g_release = become_namespace_init(CLONE_NEWPID);

  g_leader = fork();
  if (g_leader == 0) {
    close(g_release);
    group_leader();
  }
  setpgid(g_leader, g_leader);
  // A child that forks and exits: the init adopts its child.
  int orphan_pid[2];
  (void)!pipe(orphan_pid);
  pid_t parent = fork();
  if (parent == 0) {
    close(g_release);
    pid_t orphan = fork();
    if (orphan == 0) {
      close(orphan_pid[0]);
      close(orphan_pid[1]);
      wait_for_term();
      _exit((getppid() == 1 ? 0 : 1) | (getpgrp() == g_leader ? 0 : 2));
    }
    (void)!write(orphan_pid[1], &orphan, sizeof orphan);
    _exit(0);
  }
  (void)!read(orphan_pid[0], &g_orphan, sizeof g_orphan);
  waitpid(parent, nullptr, 0);
  // Now the init's child, in a group its parent does not lead.
  setpgid(g_orphan, g_leader);
  close(orphan_pid[0]);
  close(orphan_pid[1]);

  // Blocked everywhere, so that they stay pending: the process's, queued with a value, and
  // the thread's own.
  sigset_t pending;
  sigemptyset(&pending);
  sigaddset(&pending, SIGUSR2);
  sigaddset(&pending, SIGWINCH);
  sigprocmask(SIG_BLOCK, &pending, nullptr);
  std::atomic<pid_t> tid{-1};
  g_thread = new std::thread([&tid] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    while (!g_thread_stop)
      usleep(1000);
    g_thread_tid_after = static_cast<pid_t>(syscall(SYS_gettid));
    sigset_t now;
    sigpending(&now);
    g_thread_signal_pending = sigismember(&now, SIGWINCH) == 1;
  });
  while (tid < 0)
    usleep(1000);
  g_thread_tid = tid;
  syscall(SYS_tgkill, getpid(), g_thread_tid, SIGWINCH);
  sigqueue(getpid(), SIGUSR2, sigval{42});
  sigevent ev{};
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGUSR1;
  ev._sigev_un._tid = g_thread_tid;
  timer_create(CLOCK_MONOTONIC, &ev, &g_timer);
  itimerspec in_an_hour{{0, 0}, {3600, 0}};
  timer_settime(g_timer, 0, &in_an_hour, nullptr);
}

void wait() {
  close(g_release);
  wait_for_term();
}

std::optional<std::string> reap(pid_t pid, const char* what) {
  kill(pid, SIGTERM);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return std::string("the ") + what + " is gone";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return std::string("the ") + what + " failed its checks (status " + std::to_string(status) +
           "; the orphan's bits: 1 parent, 2 group; the leader's: 1/2 the grandchild's " +
           "parent/group, 4 pid, 8 parent, 16 group, 32 no grandchild)";
  return std::nullopt;
}

std::optional<std::string> check() {
  std::optional<std::string> why;
  if (getpid() != 1) why = "the init is pid " + std::to_string(getpid()) + " in its namespace";
  auto leader = reap(g_leader, "group leader");
  auto orphan = reap(g_orphan, "adopted orphan");
  if (!why) why = leader ? leader : orphan;
  itimerspec left{};
  if (!why && (timer_gettime(g_timer, &left) != 0 || left.it_value.tv_sec == 0))
    why = std::string("the timer signalling the thread is gone or disarmed");
  g_thread_stop = true;
  g_thread->join();
  if (!why && g_thread_tid_after != g_thread_tid)
    why = "the thread is tid " + std::to_string(g_thread_tid_after) + ", not " +
          std::to_string(g_thread_tid);
  if (!why && !g_thread_signal_pending) why = std::string("the thread's pending SIGWINCH is gone");
  siginfo_t info{};
  timespec now{};
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  if (!why && (sigtimedwait(&usr2, &info, &now) != SIGUSR2 || info.si_value.sival_int != 42 ||
               info.si_pid != 1))
    why = "the process's pending SIGUSR2 is gone or lost its value or sender (pid " +
          std::to_string(info.si_pid) + ")";
  return why;
}

}  // namespace
const Test kTest{setup, wait, check};
}  // namespace crossrig::tracee
