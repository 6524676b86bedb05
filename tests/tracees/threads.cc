// Several threads, each with its own TLS value and signal mask, blocked in a futex wait
// (pthread_cond_wait); after restore they wake, check their state and are joined (which
// needs each thread's clear-child-tid address back).
#include <pthread.h>
#include <signal.h>

#include <string>

#include "tests/tracees/start_gate.h"
#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr int kThreads = 3;
StartGate g_gate;
thread_local int t_value = -1;
pthread_t g_threads[kThreads];
std::string g_result[kThreads];

void* worker(void* arg) {
  int i = static_cast<int>(reinterpret_cast<long>(arg));
  t_value = 1000 + i;
  sigset_t mine;
  sigemptyset(&mine);
  sigaddset(&mine, SIGRTMIN + i);
  pthread_sigmask(SIG_BLOCK, &mine, nullptr);
  g_gate.arrive_and_wait();
  sigset_t now;
  pthread_sigmask(SIG_SETMASK, nullptr, &now);
  if (t_value != 1000 + i) {
    g_result[i] = "thread " + std::to_string(i) + " TLS value is " + std::to_string(t_value);
  } else if (!sigismember(&now, SIGRTMIN + i) || sigismember(&now, SIGRTMIN + (i + 1) % kThreads)) {
    g_result[i] = "thread " + std::to_string(i) + " signal mask changed";
  } else {
    g_result[i] = "ok";
  }
  return nullptr;
}

void setup() {
  for (long i = 0; i < kThreads; ++i)
    pthread_create(&g_threads[i], nullptr, worker, reinterpret_cast<void*>(i));
  g_gate.wait_arrived(kThreads);
}

std::optional<std::string> check() {
  g_gate.open();
  for (int i = 0; i < kThreads; ++i)
    pthread_join(g_threads[i], nullptr);
  for (int i = 0; i < kThreads; ++i)
    if (g_result[i] != "ok") return g_result[i];
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
