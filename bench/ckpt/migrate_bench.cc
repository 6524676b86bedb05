// bench-migrate [MIB] [HOT_MIB...]: what a live migration costs next to a plain dump. A writer
// tracee of MIB MiB (default 2048) whose first HOT_MIB (default 16, then 256) are rewritten
// all along is migrated with `ckpt migrate` to `ckpt receive` between two hosts made of
// namespaces on this machine (tests/ckpt/two_hosts.h), over TLS: without pre-copy
// (--iterations 0), with it (the default) and with --lazy. Just before, the same process is
// dumped whole with `ckpt dump --leave-running` into /dev/shm: the baseline, measured in the
// same run. Each line is the median of 3 runs, as a ratio to the dump: migrate's total time
// (its wall time) and its downtime (from the freeze until the destination runs the tracee, as
// migrate reports it), and with --lazy the post-copy time after it, until the destination has
// every page. The goal, with a 16 MiB hot set: a downtime of at most 5% of the dump. ckpt and
// tracee_writer are taken from beside this binary (build/PRESET/bin); root is needed (ptrace,
// namespaces). Exit codes: 0 done, 1 a run failed, 2 usage.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/child_process.h"
#include "bench/harness/spawn.h"
#include "bench/harness/stats.h"
#include "common/test_pki.h"
#include "tests/ckpt/two_hosts.h"
#include "tests/support/file_text.h"

namespace fs = std::filesystem;
using namespace crossrig;
using crossrig::test_support::file_text;

namespace {

constexpr int kRuns = 3;

// What every run uses.
struct Setup {
  std::string ckpt, writer;
  fs::path dir;
  std::size_t mib = 0;
  const ckpt_test::TwoHosts* hosts = nullptr;
  TlsConfig receive_tls, migrate_tls;
};

// One way of migrating, and its figures over the runs.
struct Way {
  std::string name;
  std::vector<std::string> args;
  std::vector<double> total, downtime, post_copy;
};

std::vector<std::string> tls_args(const TlsConfig& c) {
  return {"--tls-cacert", c.cacert, "--tls-cert", c.cert, "--tls-key", c.key};
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Standard output to out, standard error to err (the same file: shared), env added.
bench::ChildOptions to_files(const fs::path& out, const fs::path& err,
                             std::vector<std::string> env = {}) {
  bench::ChildOptions o;
  o.out = out;
  o.err = err;
  o.env = std::move(env);
  return o;
}

// Waits up to a minute for done(); throws naming what never happened.
template <typename Done>
void wait_until(Done done, const std::string& what) {
  for (int ms = 0; ms < 60000 && !done(); ms += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!done()) throw std::runtime_error(what + " within a minute");
}

// The JSON object with key among the lines of a command's output, or null.
nlohmann::json json_line(const fs::path& out, const std::string& key) {
  std::istringstream lines(file_text(out));
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains(key)) return j;
  }
  return nullptr;
}

// Starts `ckpt receive` in the destination; returns where it listens.
std::string start_receive(const Setup& s, std::optional<bench::ChildProcess>& receive) {
  const fs::path log = s.dir / "receive.log";
  fs::remove(log);  // the last run's, which says where that receive listened
  receive.emplace(
      s.hosts->inside(std::vector<std::string>{s.ckpt, "receive", "--listen",
                                               std::string(ckpt_test::kDestinationAddress) + ":0",
                                               "-D", (s.dir / "images").string(), "--json"} +
                      tls_args(s.receive_tls)),
      to_files(log, log));
  wait_until([&] { return !json_line(log, "listening").is_null(); }, "ckpt receive did not listen");
  return json_line(log, "listening")["listening"].get<std::string>();
}

// The migrated tracee passes its check on the destination, and nothing is left there after it
// (a lazy migration's server exits once the pages are in).
void check_there(const Setup& s, pid_t pid, bench::ChildProcess& receive) {
  const pid_t there = s.hosts->find(pid);
  if (there == 0) throw std::runtime_error("the destination does not run the migrated tracee");
  kill(there, SIGTERM);
  wait_until([&] { return s.hosts->find(pid) == 0; }, "the migrated tracee did not exit");
  const std::string out = file_text(s.dir / "tracee.out");
  if (!out.starts_with("PASS")) throw std::runtime_error("the migrated tracee says " + out);
  if (const int rc = receive.wait(std::chrono::seconds(60)); rc != 0)
    throw std::runtime_error("ckpt receive ended with " + std::to_string(rc) + " (-1: runs on):\n" +
                             file_text(s.dir / "receive.log"));
  wait_until([&] { return s.hosts->processes().empty(); }, "the destination did not empty");
}

// A fresh writer tracee dumped whole, then migrated the way w says: adds the dump's seconds to
// dump and the migration's figures to w.
void run_once(const Setup& s, std::size_t hot, Way& w, std::vector<double>& dump) {
  std::optional<bench::ChildProcess> receive;
  const std::string to = start_receive(s, receive);
  const fs::path pidfile = s.dir / "tracee.pid", log = s.dir / "tracee.log";
  fs::remove(pidfile);
  fs::remove(s.dir / "tracee.out");
  bench::ChildProcess tracee(
      {s.writer, "--pidfile", pidfile.string(), "--outfile", (s.dir / "tracee.out").string()},
      to_files(log, log,
               {"CKPT_TRACEE_HEAP_MB=" + std::to_string(s.mib),
                "CKPT_TRACEE_HOT_MB=" + std::to_string(hot)}));
  wait_until([&] { return !file_text(pidfile).empty(); }, "the tracee wrote no pidfile");
  const std::string pid = std::to_string(tracee.pid());
  dump.push_back(
      std::chrono::duration<double>(bench::time_command({s.ckpt, "dump", "--leave-running", "-t",
                                                         pid, "-D", (s.dir / "dump").string()}))
          .count());
  fs::remove_all(s.dir / "dump");

  const fs::path summary = s.dir / "migrate.json", said = s.dir / "migrate.log";
  const auto start = std::chrono::steady_clock::now();
  bench::ChildProcess migrate(
      std::vector<std::string>{s.ckpt, "migrate", "-t", pid, "--to", to, "--json"} + w.args +
          tls_args(s.migrate_tls),
      to_files(summary, said));
  if (const int rc = migrate.wait(); rc != 0)
    throw std::runtime_error(w.name + " exited with " + std::to_string(rc) + ":\n" +
                             file_text(said) + "ckpt receive said:\n" +
                             file_text(s.dir / "receive.log"));
  w.total.push_back(seconds_since(start));
  const nlohmann::json said_json = json_line(summary, "downtime_ms");
  w.downtime.push_back(said_json["downtime_ms"].get<double>() / 1000);
  w.post_copy.push_back(said_json.value("post_copy_ms", 0.0) / 1000);
  tracee.wait();
  check_there(s, tracee.pid(), *receive);
  fs::remove_all(s.dir / "images");
}

void bench_hot_set(const Setup& s, std::size_t hot) {
  std::vector<Way> ways = {{"migrate --iterations 0", {"--iterations", "0"}, {}, {}, {}},
                           {"migrate (pre-copy)", {}, {}, {}, {}},
                           {"migrate --lazy", {"--lazy"}, {}, {}, {}}};
  std::vector<double> dump;
  for (Way& w : ways)
    for (int r = 0; r < kRuns; ++r)
      run_once(s, hot, w, dump);
  const bench::Summary d = bench::summarize(dump);
  std::printf("hot set %zu MiB of %zu MiB\n", hot, s.mib);
  std::printf("%s\n", bench::format_row("full dump", d, "s", nullptr).c_str());
  for (const Way& w : ways) {
    const bench::Summary total = bench::summarize(w.total), down = bench::summarize(w.downtime);
    std::printf("%s\n", bench::format_row(w.name + " total", total, "s", &d).c_str());
    std::printf("%s\n", bench::format_row(w.name + " downtime", down, "s", &d).c_str());
    if (w.args == std::vector<std::string>{"--lazy"})
      std::printf("%s\n", bench::format_row(w.name + " post-copy until all pages are there",
                                            bench::summarize(w.post_copy), "s", &d)
                              .c_str());
  }
  if (hot == 16) {
    const double eager = 100 * bench::summarize(ways[1].downtime).median / d.median,
                 post = 100 * bench::summarize(ways[2].downtime).median / d.median;
    std::printf(
        "  downtime %.1f%% of the full dump with pre-copy, %.1f%% with post-copy too (goal <= "
        "5%%): goal %s\n",
        eager, post, std::min(eager, post) <= 5 ? "met" : "missed");
  }
  std::fflush(stdout);
}

// A size in MiB from the command line, or 0 if it is not a positive number.
std::size_t mib_arg(const char* text) {
  char* end = nullptr;
  const unsigned long mib = std::strtoul(text, &end, 10);
  return *end == '\0' ? mib : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Setup s;
  s.mib = argc > 1 ? mib_arg(argv[1]) : 2048;
  std::vector<std::size_t> hot;
  for (int i = 2; i < argc; ++i)
    hot.push_back(mib_arg(argv[i]));
  if (hot.empty()) hot = {16, 256};
  for (const std::size_t h : hot)
    if (s.mib == 0 || h == 0 || h > s.mib) {
      std::fputs("usage: bench-migrate [MIB] [HOT_MIB...] (positive, each hot set <= MIB)\n",
                 stderr);
      return 2;
    }
  // What this process holds besides its standard streams would go with each child, and the
  // tracee's into its image (a caller's pipe, say, which the dump refuses).
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  const fs::path bin = fs::read_symlink("/proc/self/exe").parent_path();
  s.ckpt = (bin / "ckpt").string();
  s.writer = (bin / "tracee_writer").string();
  s.dir = fs::path("/dev/shm") / ("crossrig-bench-migrate-" + std::to_string(getpid()));
  int rc = 0;
  try {
    fs::create_directories(s.dir / "pki");
    test_pki::Ca ca(s.dir / "pki", "ca");
    s.receive_tls = ca.issue("receive");
    s.migrate_tls = ca.issue("migrate");
    const ckpt_test::TwoHosts hosts;
    s.hosts = &hosts;
    std::printf(
        "writer tracee migrated to another network, PID and mount namespace over TLS vs its "
        "full dump into %s; medians of %d runs\n",
        s.dir.c_str(), kRuns);
    for (const std::size_t h : hot)
      bench_hot_set(s, h);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-migrate: %s\n", e.what());
    rc = 1;
  }
  fs::remove_all(s.dir);
  return rc;
}
