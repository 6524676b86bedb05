// The signal mask and signal dispositions (handler, flags, handler mask) survive, and one left
// at its default stays there whatever actions ckpt ran with.
#include <signal.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

volatile sig_atomic_t g_hups = 0;
void on_hup(int, siginfo_t*, void*) {
  g_hups = g_hups + 1;
}

void setup() {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGRTMIN + 3);
  sigprocmask(SIG_BLOCK, &block, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_hup;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaddset(&sa.sa_mask, SIGUSR2);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

std::optional<std::string> check() {
  sigset_t cur;
  sigprocmask(SIG_SETMASK, nullptr, &cur);
  if (!sigismember(&cur, SIGUSR1) || !sigismember(&cur, SIGRTMIN + 3)) return "signal mask lost";
  struct sigaction sa {};
  sigaction(SIGHUP, nullptr, &sa);
  if (sa.sa_sigaction != on_hup) return "SIGHUP handler lost";
  if (!(sa.sa_flags & SA_SIGINFO) || !(sa.sa_flags & SA_RESTART)) return "SIGHUP flags lost";
  if (!sigismember(&sa.sa_mask, SIGUSR2)) return "SIGHUP handler mask lost";
  sigaction(SIGPIPE, nullptr, &sa);
  if (sa.sa_handler != SIG_IGN) return "SIGPIPE no longer ignored";
  sigaction(SIGUSR2, nullptr, &sa);
  if (sa.sa_handler != SIG_DFL) return "SIGUSR2 no longer at its default action";
  raise(SIGHUP);
  return expect_eq("SIGHUP handler runs", static_cast<int>(g_hups), 1);
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
