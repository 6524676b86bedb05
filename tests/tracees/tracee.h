#pragma once
// The zdtm-style frame every tracee shares: `tracee --pidfile F --outfile F`. It sets up
// its state, writes the pidfile, waits for SIGTERM, checks the state and writes PASS or
// "FAIL: reason" to the outfile.

#include <signal.h>

#include <optional>
#include <string>

namespace crossrig::tracee {

/// What one tracee does; each tracee defines exactly one of these.
struct Test {
  /// Sets up the state that must survive checkpoint/restore.
  void (*setup)();
  /// Waits until SIGTERM arrived (stop_requested() turns true); nullptr: sigsuspend.
  void (*wait)();
  /// Returns why the state did not survive, or nullopt if it did.
  std::optional<std::string> (*check)();
};

/// True once SIGTERM arrived.
bool stop_requested();

/// Sleeps with SIGTERM unblocked until it arrives.
inline void wait_for_term() {
  sigset_t term, others;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, &others);
  sigdelset(&others, SIGTERM);
  while (!stop_requested())
    sigsuspend(&others);
}

/// The flag SIGTERM sets, for waits written in assembly.
const volatile int* stop_flag();

/// The tracee's definition (provided by each tracee's source file).
extern const Test kTest;

/// Helper for checks: a failure reason when a != b.
template <typename T>
std::optional<std::string> expect_eq(const char* what, const T& got, const T& want) {
  if (got == want) return std::nullopt;
  return std::string(what) + " is " + std::to_string(got) + ", expected " + std::to_string(want);
}

}  // namespace crossrig::tracee
