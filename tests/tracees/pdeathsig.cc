// Parent-death signals, which the kernel keeps per thread, survive in a child process: its
// main thread asked for SIGUSR1 and its second thread for SIGUSR2.
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

// [0] ready threads, [1] check requested, [2] main thread's signal, [3] second thread's
volatile int* g_shared = nullptr;
pid_t g_child = -1;

int pdeathsig() {
  int sig = -1;
  prctl(PR_GET_PDEATHSIG, &sig);
  return sig;
}

[[noreturn]] void child() {
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  std::thread second([] {
    prctl(PR_SET_PDEATHSIG, SIGUSR2);
    __atomic_add_fetch(&g_shared[0], 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&g_shared[1], __ATOMIC_SEQ_CST) == 0)
      usleep(1000);
    g_shared[3] = pdeathsig();
  });
  __atomic_add_fetch(&g_shared[0], 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&g_shared[1], __ATOMIC_SEQ_CST) == 0)
    usleep(1000);
  g_shared[2] = pdeathsig();
  second.join();
  _exit(0);
}

void setup() {
  g_shared = static_cast<volatile int*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  g_child = fork();
  if (g_child == 0) child();
  while (__atomic_load_n(&g_shared[0], __ATOMIC_SEQ_CST) < 2)
    usleep(1000);
}

std::optional<std::string> check() {
  __atomic_store_n(&g_shared[1], 1, __ATOMIC_SEQ_CST);
  int status = 0;
  if (waitpid(g_child, &status, 0) != g_child) return "child is gone";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "child ended with status " + std::to_string(status);
  if (auto why =
          expect_eq("child's parent-death signal", static_cast<int>(g_shared[2]), int{SIGUSR1}))
    return why;
  return expect_eq("parent-death signal of the child's second thread",
                   static_cast<int>(g_shared[3]), int{SIGUSR2});
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
