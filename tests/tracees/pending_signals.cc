// Signals queued while blocked survive with their siginfo payloads, process-wide and
// thread-directed, and a sigaltstack stays configured.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

alignas(16) char g_altstack[64 * 1024];

void setup() {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGUSR2);
  sigaddset(&block, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &block, nullptr);
  sigqueue(getpid(), SIGUSR1, sigval{111});
  sigqueue(getpid(), SIGRTMIN + 1, sigval{222});
  sigqueue(getpid(), SIGRTMIN + 1, sigval{223});
  syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
  stack_t st{};
  st.ss_sp = g_altstack;
  st.ss_size = sizeof g_altstack;
  sigaltstack(&st, nullptr);
}

std::optional<std::string> take(int sig, int value) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  timespec zero{0, 0};
  siginfo_t info{};
  if (sigtimedwait(&s, &info, &zero) != sig)
    return "signal " + std::to_string(sig) + " not pending";
  if (value >= 0 && info.si_value.sival_int != value)
    return "signal " + std::to_string(sig) + " carries " + std::to_string(info.si_value.sival_int);
  if (info.si_pid != getpid()) return "signal " + std::to_string(sig) + " lost its sender";
  return std::nullopt;
}

std::optional<std::string> check() {
  stack_t st{};
  sigaltstack(nullptr, &st);
  if (st.ss_sp != g_altstack || st.ss_size != sizeof g_altstack || (st.ss_flags & SS_DISABLE))
    return "sigaltstack lost";
  if (auto w = take(SIGUSR1, 111)) return w;
  if (auto w = take(SIGRTMIN + 1, 222)) return w;
  if (auto w = take(SIGRTMIN + 1, 223)) return w;
  if (auto w = take(SIGUSR2, -1)) return w;
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
