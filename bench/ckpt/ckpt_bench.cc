// bench-ckpt [--lava] CKPT [TMPFS_DIR] [SIZES_MIB...]: dump and restore a process with N MiB of
// written anonymous memory into a tmpfs directory and print each time as a ratio to a baseline
// measured in the same run on the same filesystem: dump vs `dd` writing as many bytes,
// restore vs copying the pages file into a new file (the floor for filling fresh memory)
// and vs a plain read of it; the dump that follows a pre-dump of the idle process vs the
// pre-dump; and a lazy restore (--lazy-pages): the time until the process runs, and until all
// its pages are in, vs the restore.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/harness/spawn.h"
#include "bench/harness/stats.h"

namespace fs = std::filesystem;

namespace {

// The baselines, by path: the harness spawns without a PATH search.
constexpr const char* kDd = "/bin/dd";
constexpr const char* kCp = "/bin/cp";

// --lava: each ratio as a LAVA test case line, for a board's job (toolchains/lab/ckpt-suite).
bool g_lava = false;

volatile sig_atomic_t g_term = 0;
void on_term(int) {
  g_term = 1;
}

std::uint64_t pattern(std::size_t i) {
  return i * 0x9e3779b97f4a7c15ULL;
}

// The benchmarked process: writes its memory, waits for SIGTERM, exits 0 if it is intact.
[[noreturn]] void tracee(std::size_t mib, int ready_fd) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, nullptr);
  signal(SIGTERM, on_term);
  std::size_t words = (mib << 20) / sizeof(std::uint64_t);
  auto* mem = static_cast<std::uint64_t*>(std::malloc(mib << 20));
  for (std::size_t i = 0; i < words; ++i)
    mem[i] = pattern(i);
  char c = 1;
  (void)!write(ready_fd, &c, 1);
  close(ready_fd);
  sigset_t none;
  sigemptyset(&none);
  while (!g_term)
    sigsuspend(&none);
  for (std::size_t i = 0; i < words; ++i)
    if (mem[i] != pattern(i)) _exit(1);
  _exit(0);
}

// Seconds argv takes to run to success; a failing command ends the benchmark.
double timed(const std::vector<std::string>& argv) {
  try {
    return std::chrono::duration<double>(crossrig::bench::time_command(argv)).count();
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "bench-ckpt: %s\n", e.what());
    std::exit(1);
  }
}

double median(const std::vector<double>& v) {
  return crossrig::bench::summarize(v).median;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits for the lazy-pages server `ckpt restore -d --lazy-pages` left behind: orphaned when
// ckpt exits, it is this subreaper's child, the only one besides the tracee, and exits once
// every page is in. False if it failed or did not exit within a minute.
bool wait_lazy_server(pid_t tracee) {
  for (int ms = 0; ms < 60000; ++ms) {
    int status = 0;
    const pid_t w = waitpid(-1, &status, WNOHANG);
    if (w > 0 && w != tracee) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (w == tracee) return false;
    usleep(1000);
  }
  return false;
}

void bench(const std::string& ckpt, const fs::path& dir, std::size_t mib) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  int pipefd[2];
  if (pipe(pipefd) != 0) std::exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (pipefd[1] != 3) {
      dup2(pipefd[1], 3);
      close(pipefd[1]);
    }
    close_range(4, ~0U, 0);
    tracee(mib, 3);
  }
  close(pipefd[1]);
  char c = 0;
  if (read(pipefd[0], &c, 1) != 1) std::exit(1);
  close(pipefd[0]);
  // The tracee's copy of the pipe is closed now; give it a moment to drop the fd before dump.
  usleep(100000);

  // Each figure is the median of kRuns: the machine is shared and noisy, and the median is
  // what a user can expect. Dumps leave the tracee running; the last one kills it.
  constexpr int kRuns = 5;
  // A pre-dump of the idle process, then the dump that follows it and copies what changed.
  std::vector<double> pre, after;
  for (int r = 0; r < kRuns; ++r) {
    const fs::path p = dir / "pre", d = dir / "after";
    pre.push_back(timed({ckpt, "pre-dump", "-t", std::to_string(pid), "-D", p.string()}));
    after.push_back(timed({ckpt, "dump", "-t", std::to_string(pid), "-D", d.string(),
                           "--prev-images-dir", p.string(), "--leave-running"}));
    fs::remove_all(p);
    fs::remove_all(d);
  }
  std::vector<double> dump, dd, restore, copy, read;
  fs::path img;
  for (int r = 0; r < kRuns; ++r) {
    img = dir / ("img" + std::to_string(r));
    std::vector<std::string> cmd = {ckpt, "dump", "-t", std::to_string(pid), "-D", img.string()};
    if (r + 1 < kRuns) cmd.push_back("--leave-running");
    dump.push_back(timed(cmd));
    std::uint64_t bytes = fs::file_size(img / ("pages-" + std::to_string(pid) + ".img"));
    dd.push_back(timed({kDd, "if=/dev/zero", "of=" + (dir / "dd.out").string(), "bs=4M",
                        "count=" + std::to_string((bytes + (4 << 20) - 1) >> 22), "status=none"}));
    fs::remove(dir / "dd.out");
    if (r + 1 < kRuns) fs::remove_all(img);
  }
  wait_exit(pid);
  fs::path pages = img / ("pages-" + std::to_string(pid) + ".img");
  int rc = 0;
  std::vector<double> lazy_run, lazy_all;
  for (int r = 0; r < kRuns && rc == 0; ++r) {
    const auto start = std::chrono::steady_clock::now();
    lazy_run.push_back(timed({ckpt, "restore", "-D", img.string(), "-d", "--lazy-pages"}));
    if (!wait_lazy_server(pid)) {
      std::printf("%6zu MiB  THE LAZY-PAGES SERVER FAILED in run %d\n", mib, r + 1);
      std::exit(1);
    }
    lazy_all.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    kill(pid, SIGTERM);
    rc = wait_exit(pid);
  }
  for (int r = 0; r < kRuns && rc == 0; ++r) {
    restore.push_back(timed({ckpt, "restore", "-D", img.string(), "-d"}));
    copy.push_back(timed({kCp, pages.string(), (dir / "copy.img").string()}));
    fs::remove(dir / "copy.img");
    read.push_back(timed({kDd, "if=" + pages.string(), "of=/dev/null", "bs=4M", "status=none"}));
    kill(pid, SIGTERM);
    rc = wait_exit(pid);
  }
  if (rc != 0) {
    if (g_lava)
      std::printf("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_restore_%zuMiB RESULT=fail>\n",
                  mib);
    std::printf("%6zu MiB  MEMORY DIFFERS after restore %zu\n", mib, restore.size());
    std::exit(1);
  }
  double dump_s = median(dump), dd_s = median(dd), restore_s = median(restore),
         copy_s = median(copy), read_s = median(read), pre_s = median(pre), after_s = median(after),
         lazy_run_s = median(lazy_run), lazy_all_s = median(lazy_all);
  if (g_lava) {
    std::printf(
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_dump_%zuMiB RESULT=pass "
        "MEASUREMENT=%.2f UNITS=x_dd>\n"
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_restore_%zuMiB RESULT=pass "
        "MEASUREMENT=%.2f UNITS=x_copy>\n"
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_dump_after_pre_dump_%zuMiB RESULT=pass "
        "MEASUREMENT=%.3f UNITS=x_pre_dump>\n"
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_lazy_restore_to_run_%zuMiB RESULT=pass "
        "MEASUREMENT=%.3f UNITS=x_restore>\n"
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_dump_rate_%zuMiB RESULT=pass "
        "MEASUREMENT=%.1f UNITS=MiB/s>\n"
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_restore_rate_%zuMiB RESULT=pass "
        "MEASUREMENT=%.1f UNITS=MiB/s>\n",
        mib, dump_s / dd_s, mib, restore_s / copy_s, mib, after_s / pre_s, mib,
        lazy_run_s / restore_s, mib, static_cast<double>(mib) / dump_s, mib,
        static_cast<double>(mib) / restore_s);
  }
  std::printf(
      "%6zu MiB  dump %6.3fs = %4.2fx dd (%5.3fs)   restore %6.3fs = %4.2fx copy (%5.3fs), "
      "%4.2fx read (%5.3fs)   memory intact\n"
      "%6s      dump after a pre-dump %6.3fs = %4.1f%% of the pre-dump (%5.3fs; goal <= 10%% "
      "or 40 ms)\n"
      "%6s      lazy restore: running after %6.3fs = %4.1f%% of the restore (goal <= 30 ms), "
      "all pages in after %6.3fs = %4.2fx the restore\n",
      mib, dump_s, dump_s / dd_s, dd_s, restore_s, restore_s / copy_s, copy_s, restore_s / read_s,
      read_s, "", after_s, 100 * after_s / pre_s, pre_s, "", lazy_run_s,
      100 * lazy_run_s / restore_s, lazy_all_s, lazy_all_s / restore_s);
  std::fflush(stdout);
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  constexpr const char* kUsage =
      "Usage: bench-ckpt [--lava] CKPT [TMPFS_DIR] [SIZES_MIB...]\n\n"
      "Dumps and restores a process with N MiB of written anonymous memory (default 64 512\n"
      "2048) with the ckpt binary CKPT into TMPFS_DIR (default /dev/shm/ckpt-bench), and prints\n"
      "medians of 5 runs as ratios to baselines measured in the same run on the same\n"
      "filesystem: dump vs dd writing as many bytes, restore vs copying the pages file into a\n"
      "new file and vs reading it, and the dump following a pre-dump of the idle process vs\n"
      "the pre-dump, and a lazy restore (--lazy-pages) until the process runs and until all\n"
      "its pages are in vs the restore. With --lava, each size's ratios are also printed as\n"
      "LAVA test case lines (ckpt/bench_dump_NMiB, ckpt/bench_restore_NMiB,\n"
      "ckpt/bench_dump_after_pre_dump_NMiB, ckpt/bench_lazy_restore_to_run_NMiB) with the\n"
      "dump and restore throughput (ckpt/bench_dump_rate_NMiB, ckpt/bench_restore_rate_NMiB,\n"
      "in MiB/s: what rig matrix plots per arch over the nights), as a lab board's job\n"
      "reports them. Needs root (ptrace). Exit codes: 0 done, 1 a run failed, 2 usage.\n";
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  int first = 1;
  if (argc >= 2 && std::strcmp(argv[1], "--lava") == 0) {
    g_lava = true;
    first = 2;
  }
  if (argc <= first) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::string ckpt = argv[first];
  fs::path dir = argc > first + 1 ? argv[first + 1] : "/dev/shm/ckpt-bench";
  std::vector<std::size_t> sizes;
  for (int i = first + 2; i < argc; ++i) {
    char* end = nullptr;
    unsigned long mib = std::strtoul(argv[i], &end, 10);
    if (*end != '\0' || mib == 0) {
      std::fprintf(stderr, "bench-ckpt: bad size '%s': give MiB as a positive number\n", argv[i]);
      return 2;
    }
    sizes.push_back(mib);
  }
  if (sizes.empty()) sizes = {64, 512, 2048};
  std::printf("ckpt on %s, medians of 5 runs (goal: dump <= 1.2x dd, restore <= 1.2x copy)\n",
              dir.c_str());
  for (std::size_t mib : sizes)
    bench(ckpt, dir / std::to_string(mib), mib);
  std::error_code not_empty_or_absent;
  fs::remove(dir, not_empty_or_absent);
  return 0;
}
