// Seccomp filters survive per thread, in order, shared where they were shared. Filter A makes
// getppid and getsid fail with errno 42; the main thread stacks B (getppid: errno 43) on it;
// thread 1, created between the two, stacks its own C (getppid: errno 44) on A; thread 2,
// created after B, shares A and B with the main thread. Among filters that all return an
// errno the newest one's wins, so getppid tells whether a thread's filters are its own and in
// their order, getsid that A still lies below, and /proc the number of filters.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <fstream>
#include <string>

#include "tests/tracees/start_gate.h"
#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

// Installs a filter in the calling thread only: syscalls nr1 and nr2 fail with errno err.
bool add_filter(long nr1, long nr2, int err) {
  sock_filter prog[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr1), 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr2), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<unsigned>(err)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog fprog{static_cast<unsigned short>(sizeof prog / sizeof prog[0]), prog};
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0;
}

// "" if syscall nr fails with err (or succeeds when err is 0), else what happened.
std::string probe(const char* name, long nr, int err) {
  errno = 0;
  long r = syscall(nr, 0);
  if (err == 0 ? r >= 0 : (r == -1 && errno == err)) return {};
  return std::string(name) + " returned " + std::to_string(r) + " errno " + std::to_string(errno) +
         ", expected " + (err == 0 ? "success" : "errno " + std::to_string(err)) + "; ";
}

std::string filter_count() {
  std::ifstream f("/proc/thread-self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("Seccomp_filters:", 0) == 0) return line.substr(line.find_last_of(" \t") + 1);
  return "?";
}

// What thread `who` must see: getppid failing with ppid_errno, getsid with 42 (filter A),
// getpgid unfiltered, and two filters.
std::string check_thread(const std::string& who, int ppid_errno) {
  std::string why = probe("getppid", SYS_getppid, ppid_errno) + probe("getsid", SYS_getsid, 42) +
                    probe("getpgid", SYS_getpgid, 0);
  if (why.empty() && filter_count() != "2")
    why = "has " + filter_count() + " seccomp filters, expected 2";
  return why.empty() ? std::string() : who + ": " + why;
}

StartGate g_gate;
pthread_t g_threads[2];
std::string g_result[2];
std::string g_setup_error;

void* thread1(void*) {
  if (!add_filter(SYS_getppid, SYS_getppid, 44)) g_result[0] = "thread 1 could not install C";
  g_gate.arrive_and_wait();
  if (g_result[0].empty()) g_result[0] = check_thread("thread 1", 44);
  return nullptr;
}

void* thread2(void*) {
  g_gate.arrive_and_wait();
  g_result[1] = check_thread("thread 2", 43);
  return nullptr;
}

void setup() {
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (!add_filter(SYS_getppid, SYS_getsid, 42)) g_setup_error = "filter A refused";
  pthread_create(&g_threads[0], nullptr, thread1, nullptr);
  g_gate.wait_arrived(1);
  if (!add_filter(SYS_getppid, SYS_getppid, 43)) g_setup_error = "filter B refused";
  pthread_create(&g_threads[1], nullptr, thread2, nullptr);
  g_gate.wait_arrived(2);
}

std::optional<std::string> check() {
  if (!g_setup_error.empty()) return g_setup_error;
  std::string main_why = check_thread("main thread", 43);
  g_gate.open();
  for (pthread_t t : g_threads)
    pthread_join(t, nullptr);
  for (const std::string& why : {main_why, g_result[0], g_result[1]})
    if (!why.empty()) return why;
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
