// A System V message queue, with a message, in the process's own IPC namespace: ckpt cannot
// checkpoint System V IPC objects yet, so the dump must refuse it by name and leave the task
// and its message as they were.
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>

#include <cstring>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_queue = -1;

struct Message {
  long type;
  char text[16];
};

void setup() {
  unshare(CLONE_NEWIPC);
  g_queue = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  Message m{1, "queued"};
  msgsnd(g_queue, &m, sizeof m.text, 0);
}

std::optional<std::string> check() {
  Message m{};
  if (msgrcv(g_queue, &m, sizeof m.text, 0, IPC_NOWAIT) < 0 || std::strcmp(m.text, "queued") != 0)
    return std::string("the queued message is gone");
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
