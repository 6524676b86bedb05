// A child sharing anonymous memory with its parent (restored as shared, in both directions)
// and a zombie child with its exit code, both kept across checkpoint/restore.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

volatile int* g_shared = nullptr;  // [0] parent → child, [1] child → parent, [2] child ready
pid_t g_child = -1, g_zombie = -1;
int g_role = 0;  // private memory: 1 in the parent, 2 in the child

void setup() {
  g_shared = static_cast<volatile int*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  g_role = 1;
  g_child = fork();
  if (g_child == 0) {
    g_role = 2;
    sigset_t wait_mask;
    sigprocmask(SIG_SETMASK, nullptr, &wait_mask);
    sigdelset(&wait_mask, SIGTERM);
    g_shared[2] = 1;
    while (!stop_requested())
      sigsuspend(&wait_mask);
    // After restore: the parent's write must be visible, and ours must reach it.
    bool ok = g_role == 2 && g_shared[0] == 0x1234;
    g_shared[1] = 0xbeef;
    _exit(ok ? 0 : 1);
  }
  g_zombie = fork();
  if (g_zombie == 0) _exit(7);
  siginfo_t info{};
  waitid(P_PID, static_cast<id_t>(g_zombie), &info, WEXITED | WNOWAIT);
  while (g_shared[2] == 0)
    usleep(1000);
}

std::optional<std::string> check() {
  if (g_role != 1) return "parent's private memory changed";
  g_shared[0] = 0x1234;
  kill(g_child, SIGTERM);
  int status = 0;
  if (waitpid(g_child, &status, 0) != g_child) return "child is gone";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "child reported failure (status " + std::to_string(status) + ")";
  if (g_shared[1] != 0xbeef) return "child's write to shared memory not seen: memory not shared";
  if (waitpid(g_zombie, &status, 0) != g_zombie) return "zombie child is gone";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
    return "zombie exit status is " + std::to_string(status);
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
