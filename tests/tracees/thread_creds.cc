// Credentials that differ between threads survive per thread. Raw syscalls change only the
// calling thread (glibc's wrappers would change all): thread 1 takes other gids and groups,
// drops CAP_NET_RAW from its effective and permitted sets and CAP_MKNOD from its bounding set;
// thread 2 takes other uids (keeping euid 0), no_new_privs and a personality; the main thread
// keeps what it started with. Each thread compares its /proc status after restore with what
// it saw before.
#include <linux/capability.h>
#include <pthread.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/tracees/start_gate.h"
#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

// The credential lines of the calling thread's /proc status, and its personality.
std::string creds() {
  std::ifstream f("/proc/thread-self/status");
  std::string out;
  for (std::string line; std::getline(f, line);) {
    for (const char* key :
         {"Uid:", "Gid:", "Groups:", "CapEff:", "CapPrm:", "CapBnd:", "NoNewPrivs:"})
      if (line.rfind(key, 0) == 0) out += line + "\n";
  }
  return out + "personality " + std::to_string(personality(0xffffffff)) + "\n";
}

bool drop_net_raw() {
  __user_cap_header_struct head{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &head, data) != 0) return false;
  data[0].effective &= ~(1U << CAP_NET_RAW);
  data[0].permitted &= ~(1U << CAP_NET_RAW);
  return syscall(SYS_capset, &head, data) == 0;
}

StartGate g_gate;
std::string g_before[3], g_result[3];
pthread_t g_threads[2];

void wait_for_go(int i) {
  g_before[i] = creds();
  g_gate.arrive_and_wait();
  std::string now = creds();
  if (now != g_before[i])
    g_result[i] = "thread " + std::to_string(i) + " credentials changed:\n" + now + "instead of\n" +
                  g_before[i];
}

void* thread1(void*) {
  gid_t groups[] = {4242};
  if (syscall(SYS_setgroups, 1, groups) != 0 || syscall(SYS_setresgid, 2001, 2002, 0) != 0 ||
      !drop_net_raw() || prctl(PR_CAPBSET_DROP, CAP_MKNOD) != 0)
    g_result[1] = "thread 1 could not change its credentials";
  wait_for_go(1);
  return nullptr;
}

void* thread2(void*) {
  if (syscall(SYS_setresuid, 1001, 0, 1002) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      personality(ADDR_NO_RANDOMIZE) < 0)
    g_result[2] = "thread 2 could not change its credentials";
  wait_for_go(2);
  return nullptr;
}

void setup() {
  pthread_create(&g_threads[0], nullptr, thread1, nullptr);
  pthread_create(&g_threads[1], nullptr, thread2, nullptr);
  g_before[0] = creds();
  g_gate.wait_arrived(2);
}

std::optional<std::string> check() {
  // The threads must really differ, or the test proves nothing.
  if (g_before[0] == g_before[1] || g_before[0] == g_before[2] || g_before[1] == g_before[2])
    return "threads had equal credentials before the dump";
  if (creds() != g_before[0]) return "main thread credentials changed:\n" + creds();
  g_gate.open();
  for (pthread_t t : g_threads)
    pthread_join(t, nullptr);
  for (const std::string& why : g_result)
    if (!why.empty()) return why;
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
