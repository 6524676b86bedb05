#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {
volatile int g_stop = 0;
void on_term(int) {
  g_stop = 1;
}
}  // namespace

bool stop_requested() {
  return g_stop != 0;
}
const volatile int* stop_flag() {
  return &g_stop;
}

}  // namespace crossrig::tracee

using namespace crossrig::tracee;

int main(int argc, char** argv) {
  std::string pidfile, outfile;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--pidfile") == 0) pidfile = argv[i + 1];
    if (std::strcmp(argv[i], "--outfile") == 0) outfile = argv[i + 1];
  }
  if (pidfile.empty() || outfile.empty()) return 2;
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, nullptr);
  kTest.setup();
  {
    std::ofstream(pidfile + ".tmp") << getpid() << "\n";
    rename((pidfile + ".tmp").c_str(), pidfile.c_str());
  }
  if (kTest.wait != nullptr) {
    sigprocmask(SIG_UNBLOCK, &term, nullptr);
    kTest.wait();
  } else {
    sigset_t all_but_term;
    sigprocmask(SIG_SETMASK, nullptr, &all_but_term);
    sigdelset(&all_but_term, SIGTERM);
    while (!stop_requested())
      sigsuspend(&all_but_term);
    sigprocmask(SIG_UNBLOCK, &term, nullptr);
  }
  auto why = kTest.check();
  std::ofstream(outfile) << (why ? "FAIL: " + *why : std::string("PASS")) << "\n";
  return why ? 1 : 0;
}
