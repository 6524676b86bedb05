// A System V shared memory segment attached in the machine's IPC namespace (and already
// marked for removal, so nothing is left behind), where it is shared with processes outside
// the tree: the dump must refuse the mapping by name and leave the task running.
#include <sys/ipc.h>
#include <sys/shm.h>

#include <cstring>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

char* g_segment = nullptr;

void setup() {
  int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  g_segment = static_cast<char*>(shmat(id, nullptr, 0));
  shmctl(id, IPC_RMID, nullptr);
  std::strcpy(g_segment, "segment");
}

std::optional<std::string> check() {
  if (std::strcmp(g_segment, "segment") != 0) return std::string("the segment changed");
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
