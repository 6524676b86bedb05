// A thread in strict seccomp mode, blocked in read() on a pipe: ckpt must refuse it with a
// message saying so (the driver runs this one with --expect-refusal), and the task must go on
// as before: after SIGTERM the main thread writes to the pipe, the strict thread reads it,
// answers through a second pipe (write is allowed) and exits.
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_to_thread[2], g_from_thread[2];
volatile int g_strict = 0;
pthread_t g_thread;

void* strict(void*) {
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) == 0) g_strict = 1;
  char c = 0;
  // Raw syscalls: in strict mode only read, write, exit and sigreturn are allowed.
  if (syscall(SYS_read, g_to_thread[0], &c, 1) == 1) syscall(SYS_write, g_from_thread[1], &c, 1);
  syscall(SYS_exit, 0);
  return nullptr;
}

void setup() {
  if (pipe(g_to_thread) != 0 || pipe(g_from_thread) != 0) return;
  pthread_create(&g_thread, nullptr, strict, nullptr);
  while (g_strict == 0)
    usleep(1000);
}

std::optional<std::string> check() {
  if (g_strict == 0) return "the thread did not enter strict mode";
  char c = 'x', back = 0;
  if (write(g_to_thread[1], &c, 1) != 1 || read(g_from_thread[0], &back, 1) != 1 || back != 'x')
    return "the strict thread did not answer";
  pthread_join(g_thread, nullptr);
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
