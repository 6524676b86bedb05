// System V IPC in a process started in its own IPC namespace, as a container runs it: a
// segment attached by the process and its child (one page made read-only, the last page
// unmapped), a segment removed while attached, a semaphore set, a message queue with
// messages of two types, and a namespace limit of its own. The child waits in msgrcv for a
// message the restored parent sends, then answers through the shared segment and a
// semaphore: each object must come back with its id, content and sharing.
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr const char* kMsgmnb = "32000";
constexpr long kPing = 99;
constexpr std::size_t kAnswerAt = 64;

union SemArg {
  int val;
  unsigned short* array;
};

struct Message {
  long type;
  char text[64];
};

int g_shm = -1, g_removed = -1, g_sem = -1, g_msg = -1;
char* g_shared = nullptr;
char* g_gone = nullptr;
std::size_t g_page = 0;
pid_t g_child = -1;

void child() {
  Message m{};
  if (msgrcv(g_msg, &m, sizeof m.text, kPing, 0) < 0) _exit(2);
  std::strcpy(g_shared + kAnswerAt, ("child saw: " + std::string(m.text)).c_str());
  sembuf up{1, 1, 0};
  _exit(semop(g_sem, &up, 1) == 0 ? 0 : 3);
}

void setup() {
  g_page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  unshare(CLONE_NEWIPC);
  std::ofstream(std::string("/proc/sys/kernel/msgmnb")) << kMsgmnb;

  // A segment removed right away leaves a gap in the ids, which restore must keep.
  shmctl(shmget(IPC_PRIVATE, g_page, IPC_CREAT | 0600), IPC_RMID, nullptr);
  g_shm = shmget(0x5eed0001, 3 * g_page, IPC_CREAT | 0640);
  g_shared = static_cast<char*>(shmat(g_shm, nullptr, 0));
  std::strcpy(g_shared, "parent wrote");
  g_shared[g_page - 1] = 'E';
  std::strcpy(g_shared + g_page, "read-only page");
  std::strcpy(g_shared + 2 * g_page, "unmapped page");
  mprotect(g_shared + g_page, g_page, PROT_READ);

  g_removed = shmget(IPC_PRIVATE, g_page, IPC_CREAT | 0600);
  g_gone = static_cast<char*>(shmat(g_removed, nullptr, 0));
  std::strcpy(g_gone, "removed but attached");
  shmctl(g_removed, IPC_RMID, nullptr);

  g_sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
  unsigned short values[2] = {5, 0};
  SemArg arg{};
  arg.array = values;
  semctl(g_sem, 0, SETALL, arg);

  g_msg = msgget(0x5eed0002, IPC_CREAT | 0600);
  Message hello{1, "hello"}, world{2, "world"};
  msgsnd(g_msg, &world, sizeof world.text, 0);
  msgsnd(g_msg, &hello, sizeof hello.text, 0);

  // Last, so that no mapping made above takes the hole.
  munmap(g_shared + 2 * g_page, g_page);
  g_child = fork();
  if (g_child == 0) child();
}

// The protection of the mapping at addr in /proc/self/maps ("r--p"), or "" if none.
std::string protection_at(const void* addr) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    std::istringstream in(line);
    unsigned long start = 0, end = 0;
    char dash = 0;
    std::string perms;
    in >> std::hex >> start >> dash >> end >> perms;
    const auto a = reinterpret_cast<unsigned long>(addr);
    if (start <= a && a < end) return perms;
  }
  return "";
}

std::optional<std::string> check_objects() {
  if (std::strcmp(g_shared, "parent wrote") != 0 || g_shared[g_page - 1] != 'E' ||
      std::strcmp(g_shared + g_page, "read-only page") != 0)
    return "the segment holds \"" + std::string(g_shared) + "\"";
  if (std::string p = protection_at(g_shared + g_page); p != "r--s")
    return "the segment's read-only page is mapped " + p;
  if (std::string p = protection_at(g_shared + 2 * g_page); !p.empty())
    return "the segment's unmapped page is mapped " + p;
  if (shmget(0x5eed0001, 0, 0) != g_shm) return std::string("the segment's key is gone");
  shmid_ds ds{};
  if (shmctl(g_removed, IPC_STAT, &ds) != 0 || !(ds.shm_perm.mode & SHM_DEST))
    return std::string("the removed segment is not marked removed");
  if (std::strcmp(g_gone, "removed but attached") != 0)
    return "the removed segment holds \"" + std::string(g_gone) + "\"";
  unsigned short values[2] = {};
  SemArg arg{};
  arg.array = values;
  if (semctl(g_sem, 0, GETALL, arg) != 0 || values[0] != 5 || values[1] != 0)
    return "the semaphores are " + std::to_string(values[0]) + " and " + std::to_string(values[1]) +
           " (" + std::strerror(errno) + ")";
  std::ifstream limit("/proc/sys/kernel/msgmnb");
  std::string msgmnb;
  limit >> msgmnb;
  if (msgmnb != kMsgmnb) return "kernel.msgmnb is " + msgmnb;
  // Queued in the order they were sent, each with its type.
  struct Queued {
    long type;
    const char* text;
  };
  for (const Queued& q : {Queued{2, "world"}, Queued{1, "hello"}}) {
    Message m{};
    if (msgrcv(g_msg, &m, sizeof m.text, 0, IPC_NOWAIT) < 0)
      return "no message \"" + std::string(q.text) + "\" (" + std::strerror(errno) + ")";
    if (m.type != q.type || std::strcmp(m.text, q.text) != 0)
      return "the next message is \"" + std::string(m.text) + "\" of type " +
             std::to_string(m.type) + ", not \"" + q.text + "\"";
  }
  return std::nullopt;
}

std::optional<std::string> check_child() {
  Message ping{kPing, "ping"};
  if (msgsnd(g_msg, &ping, sizeof ping.text, IPC_NOWAIT) != 0)
    return "sending the child its message failed: " + std::string(std::strerror(errno));
  sembuf down{1, -1, 0};
  timespec wait{30, 0};
  if (semtimedop(g_sem, &down, 1, &wait) != 0)
    return "the child never raised the semaphore: " + std::string(std::strerror(errno));
  int status = 0;
  if (waitpid(g_child, &status, 0) != g_child) return std::string("the child is gone");
  g_child = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "the child failed (status " + std::to_string(status) + ")";
  if (std::strcmp(g_shared + kAnswerAt, "child saw: ping") != 0)
    return "the child's answer did not reach the shared segment: \"" +
           std::string(g_shared + kAnswerAt) + "\"";
  return std::nullopt;
}

std::optional<std::string> check() {
  auto why = check_objects();
  if (!why) why = check_child();
  if (g_child > 0) {
    kill(g_child, SIGKILL);
    waitpid(g_child, nullptr, 0);
  }
  return why;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
