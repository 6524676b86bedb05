// migrate_driver --ckpt PATH --heap PATH --writer PATH --tcp PATH --workdir DIR --case CASE: a
// tracee
// migrated live between two hosts on this machine (two_hosts.h), `ckpt migrate` here and
// `ckpt receive` in the destination, over TLS with certificates made for the run.
//   basic, lazy (--lazy), stop_and_copy (--iterations 0), big (1 GiB heap, --lazy), writer (the
//     writer tracee, 16 MiB of 256 rewritten all along, --iterations 3; writer_lazy the same
//     with --lazy, its hot pages wanted at once while the rest comes): migrate exits 0 and
//     says what it did, the tracee here was killed, the destination runs it with its PID and
//     it passes its check there, the images are where receive was told to put them and nothing
//     else is left running there.
//   refused: a migration with a certificate of another CA fails naming the certificate and
//     leaves the tracee as it was; receive reports it and keeps listening for the migration
//     that then succeeds as in basic.
//   pid_taken: a process of the destination holds the tracee's PID: the restore there fails,
//     and with it the migration, which names the PID; the tracee is left here as it was,
//     receive exits 5 with no images and nothing of the tracee there.
//   unsupported: the tcp tracee (an established connection, which migrate does not take): migrate
//     refuses it as the dump would, before any round, naming the connection; the tracee runs on
//     here as it was, and receive, whose source went away with no image, exits 5.
//   destination_lost: receive killed between two pre-copy rounds, as when its host dies: migrate
//     fails, leaving the tracee here exactly as it was.
//   kill:PHASE: the ckpt of one side kills itself entering PHASE (CKPT_FAULT_PHASE), migrate-*
//     the source's and receive-* the destination's: the tracee survives on exactly one side,
//     passing its check there, and the failed side is left with no process, and a destination
//     whose receive saw the failure with no images.
//   kill_lazy:PHASE: the same, migrating with --lazy.
//   post_copy_lost: the writer migrated with --lazy (migrate stopped before the freeze until
//     the writer has written pages for post-copy), the destination's lazy-pages server
//     failing its first fetch from the source, as when the link is lost: the tracee is killed
//     there, and runs on here exactly as it was; receive exits 5 with no images.
//   kill_source_post_copy: the same with the source's ckpt killed as post-copy begins: its
//     copy dies with it, and the one there, missing pages, must not run on (the tracee is
//     lost, as documented).
//   lazy_dump: post-copy without a migration: `ckpt dump --lazy-pages --listen` here leaves
//     the heap tracee's memory in it, frozen, and `ckpt restore --lazy-pages --page-server`
//     there restores the image and fetches every page from it: dump exits 0 having served
//     all of the heap, the tracee here was killed, and it passes its check there.
//   lazy_dump_refused: the same, after a restore there with a certificate of another CA, which
//     fails naming the certificate with nothing of the tracee there, while dump reports the
//     refused client and waits on.
//   lazy_dump_lost: the same with the lazy-pages server there failing its first fetch: the
//     tracee is killed there, dump exits 5, and the tracee runs on here exactly as it was.
//   interrupt:PHASE: the same with SIGINT instead (CKPT_FAULT_PHASE=PHASE:sigint), as by Ctrl-C:
//     that ckpt gives up at its next phase, before the commit leaving the tracee here exactly as
//     it was and the destination with no images; past it, the migration completes.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/test_pki.h"
#include "tests/ckpt/test_process.h"
#include "tests/ckpt/two_hosts.h"
#include "tests/support/file_text.h"

namespace fs = std::filesystem;
using crossrig::ckpt_test::fail;
using crossrig::ckpt_test::kDestinationAddress;
using crossrig::ckpt_test::live;
using crossrig::ckpt_test::mappings_and_fds;
using crossrig::ckpt_test::run;
using crossrig::ckpt_test::spawn;
using crossrig::ckpt_test::TwoHosts;
using crossrig::test_support::file_text;

namespace {

// What both commands said, for every failure's message; the restored PID receive writes.
fs::path g_migrate_log, g_receive_log, g_receive_pidfile;
// receive's -D, on tmpfs (the big case's images are 1 GiB), outside the workdir.
fs::path g_images;

void remove_images() {
  std::error_code ec;
  fs::remove_all(g_images, ec);
}

[[noreturn]] void fail_logged(const std::string& why) {
  fail(why + "\nckpt migrate said:\n" + file_text(g_migrate_log) + "ckpt receive said:\n" +
       file_text(g_receive_log));
}

std::vector<std::string> tls_args(const crossrig::TlsConfig& c) {
  return {"--tls-cacert", c.cacert, "--tls-cert", c.cert, "--tls-key", c.key};
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The tracee, its size, the options of migrate and the fault of each case.
struct Case {
  bool writer = false;
  std::string heap_mb = "64";
  std::vector<std::string> migrate_args;
  // PHASE:kill or PHASE:sigint, the CKPT_FAULT_PHASE of the side whose phase it is.
  std::string fault;
  // The tcp tracee instead of the heap's.
  bool tcp = false;
};

bool lazy(const Case& c) {
  return std::ranges::count(c.migrate_args, "--lazy") > 0;
}

std::optional<Case> case_named(const std::string& which) {
  if (which == "basic" || which == "refused" || which == "pid_taken") return Case{};
  // Rounds until the tenth, for the destination to be lost between two of them.
  if (which == "destination_lost") return Case{false, "64", {"--goal", "0"}, ""};
  if (which == "lazy") return Case{false, "64", {"--lazy"}, ""};
  if (which == "stop_and_copy") return Case{false, "64", {"--iterations", "0"}, ""};
  if (which == "big") return Case{false, "1024", {"--lazy"}, ""};
  if (which == "writer") return Case{true, "256", {"--iterations", "3"}, ""};
  if (which == "writer_lazy") return Case{true, "256", {"--iterations", "3", "--lazy"}, ""};
  // The writer's pages written after the last round stay at the source for post-copy.
  if (which == "post_copy_lost")
    return Case{true, "256", {"--iterations", "3", "--lazy"}, "receive-post-copy"};
  if (which == "lazy_dump" || which == "lazy_dump_refused") return Case{};
  if (which == "unsupported") {
    Case c;
    c.tcp = true;
    return c;
  }
  if (which == "lazy_dump_lost") return Case{false, "64", {}, "receive-post-copy"};
  if (which == "kill_source_post_copy")
    return Case{true, "256", {"--iterations", "3", "--lazy"}, "migrate-post-copy:kill"};
  const std::string kind = which.substr(0, which.find(':')),
                    phase = which.substr(which.find(':') + 1);
  if ((kind != "kill" && kind != "kill_lazy" && kind != "interrupt") ||
      (!phase.starts_with("migrate-") && !phase.starts_with("receive-")))
    return std::nullopt;
  // Two rounds, so that the fault at the first pre-copy round comes before any image.
  Case c{false, "64", {"--iterations", "2"}, phase + (kind == "interrupt" ? ":sigint" : ":kill")};
  if (kind == "kill_lazy") c.migrate_args.push_back("--lazy");
  return c;
}

// The last line of out that is a JSON object with key, waited for: the bound only stops a
// broken run from hanging ctest. Progress lines between them are text.
nlohmann::json wait_json(const fs::path& out, const std::string& key, const std::string& who) {
  for (int i = 0; i < 3000; ++i) {
    std::istringstream lines(file_text(out));
    std::optional<nlohmann::json> found;
    for (std::string line; std::getline(lines, line);) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains(key)) found = std::move(j);
    }
    if (found) return *found;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fail_logged(who + " printed no JSON line with \"" + key + "\"");
}

// The exit code of our child pid (128 + the signal that killed it), waited for up to seconds;
// fails naming what when it runs on.
int exit_within(pid_t pid, int seconds, const std::string& what) {
  for (int ms = 0; ms < seconds * 1000; ms += 10) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      live().erase(pid);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fail_logged(what + " did not exit within " + std::to_string(seconds) + " s");
}

bool exited(pid_t pid) {
  return waitpid(pid, nullptr, WNOHANG) == pid;
}

void expect_reported_pass(const fs::path& outfile, const std::string& stage) {
  const std::string out = file_text(outfile);
  if (!out.starts_with("PASS"))
    fail_logged(stage + ": the tracee reported " + (out.empty() ? "nothing" : out));
  fs::remove(outfile);
}

// The lines of its mappings and fds (mappings_and_fds) that a failure added (+) or took (-).
std::string changes(const std::string& before, const std::string& after) {
  auto lines = [](const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      out.insert(line);
    return out;
  };
  const std::set<std::string> b = lines(before), a = lines(after);
  std::string out;
  for (const std::string& line : a)
    if (!b.contains(line)) out += "+ " + line + "\n";
  for (const std::string& line : b)
    if (!a.contains(line)) out += "- " + line + "\n";
  return out;
}

// The tracee runs here: on SIGTERM it checks itself and exits, unless a side left it stopped.
void expect_pass_here(pid_t pid, const fs::path& outfile, const std::string& stage) {
  kill(pid, SIGTERM);
  exit_within(pid, 60, stage + ": the tracee here, sent SIGTERM,");
  expect_reported_pass(outfile, stage);
}

std::string maps_of(pid_t pid) {
  return file_text("/proc/" + std::to_string(pid) + "/maps");
}

// A migration that failed left the tracee here running as it was, as snapshot reads it (before
// holds what it read before the migration), and passing its check.
void expect_here_as_before(pid_t pid, const std::string& before, std::string (*snapshot)(pid_t),
                           const fs::path& outfile, const std::string& stage) {
  if (exited(pid)) fail_logged(stage + ": the tracee here ended");
  if (const std::string after = snapshot(pid); after != before)
    fail_logged(stage + ": the tracee here was left changed:\n" + changes(before, after));
  expect_pass_here(pid, outfile, stage);
}

// The destination runs the tracee with its PID: on SIGTERM it checks itself and exits there.
void expect_pass_there(const TwoHosts& hosts, pid_t pid, const fs::path& outfile,
                       const std::string& stage) {
  const pid_t here = hosts.find(pid);
  if (here == 0) fail_logged(stage + ": the destination runs no process " + std::to_string(pid));
  kill(here, SIGTERM);
  for (int i = 0; i < 6000 && hosts.find(pid) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (hosts.find(pid) != 0) fail_logged(stage + ": the migrated tracee did not exit on SIGTERM");
  expect_reported_pass(outfile, stage);
}

// The pids there of the destination's processes.
std::set<pid_t> pids_there(const TwoHosts& hosts) {
  std::set<pid_t> out;
  for (const auto& [there, here] : hosts.processes())
    out.insert(there);
  return out;
}

// Waits until the destination runs exactly the processes with the pids there in want (its
// init aside); fails with what it runs instead.
void expect_destination_runs(const TwoHosts& hosts, const std::set<pid_t>& want, int seconds,
                             const std::string& stage) {
  for (int ms = 0; ms < seconds * 1000 && pids_there(hosts) != want; ms += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (pids_there(hosts) == want) return;
  std::string runs;
  for (const auto& [there, here] : hosts.processes()) {
    const std::string comm = file_text("/proc/" + std::to_string(here) + "/comm");
    runs += " " + std::to_string(there) + " (" + comm.substr(0, comm.find('\n')) + ")";
  }
  fail_logged(stage + ": the destination runs" + (runs.empty() ? " nothing" : runs));
}

// Once receive is gone the destination must run nothing but its init: no restored process
// after a failure, no lazy-pages server once the tracee exited.
void expect_destination_empty(const TwoHosts& hosts, const std::string& stage) {
  expect_destination_runs(hosts, {}, 60, stage);
}

void expect_no_images(const std::string& stage) {
  if (!fs::exists(g_images)) return;
  for (const auto& e : fs::directory_iterator(g_images))
    fail_logged(stage + ": receive left " + e.path().string());
}

// Starts `ckpt receive` in the destination; returns the pid of the nsenter that runs it (whose
// exit code is receive's) and the address it listens on.
std::pair<pid_t, std::string> start_receive(const std::string& ckpt, const TwoHosts& hosts,
                                            const crossrig::TlsConfig& tls,
                                            const std::string& fault) {
  std::vector<std::string> env = {"/usr/bin/env"};
  if (!fault.empty()) env.push_back("CKPT_FAULT_PHASE=" + fault);
  const pid_t pid =
      spawn(hosts.inside(env +
                         std::vector<std::string>{ckpt, "receive", "--listen",
                                                  std::string(kDestinationAddress) + ":0", "-D",
                                                  g_images.string(), "--json", "--timeout", "60",
                                                  "--pidfile", g_receive_pidfile.string()} +
                         tls_args(tls)),
            g_receive_log);
  live().insert(pid);
  const nlohmann::json j = wait_json(g_receive_log, "listening", "ckpt receive");
  return {pid, j["listening"].get<std::string>()};
}

std::vector<std::string> migrate_argv(const std::string& ckpt, pid_t pid, const std::string& to,
                                      const Case& c, const crossrig::TlsConfig& tls,
                                      const fs::path& work, const std::string& fault) {
  std::vector<std::string> env = {"/usr/bin/env"};
  if (!fault.empty()) env.push_back("CKPT_FAULT_PHASE=" + fault);
  return env +
         std::vector<std::string>{ckpt,    "migrate", "-t",         std::to_string(pid),
                                  "--to",  to,        "--work-dir", (work / "migrate").string(),
                                  "--json"} +
         c.migrate_args + tls_args(tls);
}

int migrate(const std::string& ckpt, pid_t pid, const std::string& to, const Case& c,
            const crossrig::TlsConfig& tls, const fs::path& work, const std::string& fault) {
  return run(migrate_argv(ckpt, pid, to, c, tls, work, fault), g_migrate_log);
}

// The CPU time pid has used, in clock ticks (/proc/PID/stat's utime + stime).
long cpu_ticks(pid_t pid) {
  const std::string stat = file_text("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n == 14) utime = std::stol(field);
    if (n == 15) stime = std::stol(field);
  }
  return utime + stime;
}

// migrate as above, stopped as it is about to freeze the writer until the writer has run for
// 50 ms of CPU since: pages written after the last pre-copy round are then certain, where a
// loaded machine may otherwise not run the writer at all between the round and the freeze.
int migrate_after_writes(const std::string& ckpt, pid_t pid, const std::string& to, const Case& c,
                         const crossrig::TlsConfig& tls, const fs::path& work,
                         const std::string& fault) {
  const std::vector<std::string> argv = migrate_argv(
      ckpt, pid, to, c, tls, work, "migrate-final:stop" + (fault.empty() ? "" : "," + fault));
  const pid_t m = spawn(argv, g_migrate_log);
  live().insert(m);
  int status = 0;
  if (waitpid(m, &status, WUNTRACED) != m || !WIFSTOPPED(status))
    fail_logged("ckpt migrate ended before its final dump");
  const long ran = cpu_ticks(pid), hz = sysconf(_SC_CLK_TCK);
  for (int i = 0; i < 6000 && cpu_ticks(pid) - ran < hz / 20; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (cpu_ticks(pid) - ran < hz / 20) fail_logged("the writer did not run while migrate waited");
  kill(m, SIGCONT);
  return exit_within(m, 120, "ckpt migrate");
}

// migrate's --json summary says what it did with c; returns its number of pre-copy rounds.
std::size_t expect_summary(pid_t pid, const std::string& to, const Case& c) {
  // Not const: a key it lacks reads as null.
  nlohmann::json s = wait_json(g_migrate_log, "rounds", "ckpt migrate");
  if (s.value("pid", 0) != pid || s.value("to", "") != to || !s["rounds"].is_array() ||
      !s["downtime_ms"].is_number() || !s["total_ms"].is_number() ||
      !s["final_bytes"].is_number() || s.value("lazy", !lazy(c)) != lazy(c))
    fail_logged("migrate --json does not say what it did: " + s.dump());
  for (nlohmann::json& r : s["rounds"])
    if (!r["bytes"].is_number() || !r["dirty_percent"].is_number() || !r["seconds"].is_number())
      fail_logged("migrate --json does not give each round's figures: " + s.dump());
  const std::size_t rounds = s["rounds"].size();
  const bool stop_and_copy = c.migrate_args == std::vector<std::string>{"--iterations", "0"};
  if (stop_and_copy ? rounds != 0 : rounds < 1)
    fail_logged("migrate made " + std::to_string(rounds) + " pre-copy rounds");
  if (c.writer && rounds > 3) fail_logged("migrate --iterations 3 made more pre-copy rounds");
  for (std::size_t n = 1; n <= rounds; ++n)
    if (!fs::is_directory(g_images / ("pre-" + std::to_string(n))))
      fail_logged("no image pre-" + std::to_string(n) + " in receive's directory");
  return rounds;
}

// The tracee left here and runs on there with its PID: receive reports it, and it passes its
// check there; then nothing else is left running there.
void expect_moved(const TwoHosts& hosts, pid_t pid, pid_t receive, const fs::path& outfile,
                  bool lazy, const std::string& stage) {
  if (int code = exit_within(pid, 30, "the tracee here"); code != 128 + SIGKILL)
    fail_logged(stage + ": the tracee here ended with " + std::to_string(code) + ", not killed");
  if (int code = exit_within(receive, 60, "ckpt receive"); code != 0)
    fail_logged(stage + ": ckpt receive exited with " + std::to_string(code));
  const nlohmann::json r = wait_json(g_receive_log, "migrated", "ckpt receive");
  if (r.value("migrated", false) != true || r.value("pid", 0) != pid)
    fail_logged(stage + ": ckpt receive does not report the tracee migrated: " + r.dump());
  if (!fs::is_directory(g_images / "dump"))
    fail_logged(stage + ": no image dump in receive's directory");
  if (file_text(g_receive_pidfile) != std::to_string(pid) + "\n")
    fail_logged(stage + ": receive --pidfile holds \"" + file_text(g_receive_pidfile) + "\"");
  // The memory comes in the background while the tracee runs (the heap tracee touches none
  // of it), and the lazy-pages server leaves once it is all in.
  if (lazy) expect_destination_runs(hosts, {pid}, 120, stage + ", the lazy pages in");
  expect_pass_there(hosts, pid, outfile, stage);
  expect_destination_empty(hosts, stage + ", once the migrated tracee exited");
}

// A certificate of another CA: refused by receive, which reports it and listens on; the
// tracee is left as it was.
void expect_refused(const std::string& ckpt, pid_t pid, const std::string& to, pid_t receive,
                    const crossrig::TlsConfig& stranger, const fs::path& work) {
  const std::string before = mappings_and_fds(pid);
  if (migrate(ckpt, pid, to, Case{}, stranger, work, "") == 0)
    fail_logged("a migration with a certificate of another CA got through");
  if (file_text(g_migrate_log).find("certificate") == std::string::npos)
    fail_logged("the refused migration does not mention the certificate");
  wait_json(g_receive_log, "refused", "ckpt receive");
  if (exited(pid)) fail_logged("the refused migration ended the tracee");
  if (const std::string after = mappings_and_fds(pid); after != before)
    fail_logged("the refused migration changed the tracee's mappings or fds:\n" +
                changes(before, after));
  if (exited(receive)) fail_logged("ckpt receive did not listen on after refusing a client");
  expect_no_images("after a refused client");
}

// A process of the destination holds the tracee's PID: the restore there fails, which fails
// the migration, leaving the tracee here as it was and nothing of it there.
void expect_unsupported(const std::string& ckpt, pid_t pid, const std::string& to, pid_t receive,
                        const crossrig::TlsConfig& tls, const fs::path& work,
                        const fs::path& outfile) {
  const std::string before = mappings_and_fds(pid);
  if (const int rc = migrate(ckpt, pid, to, Case{}, tls, work, ""); rc != 3)
    fail_logged("migrate of a tree it cannot dump exited with " + std::to_string(rc) +
                " instead of 3");
  if (file_text(g_migrate_log).find("dump with --tcp-established") == std::string::npos)
    fail_logged("the refused migration does not name the connection");
  if (file_text(g_migrate_log).find("round 1") != std::string::npos)
    fail_logged("migrate sent a round of a tree it cannot dump");
  if (const int received = exit_within(receive, 60, "ckpt receive"); received != 5)
    fail_logged("receive whose source went away exited with " + std::to_string(received));
  expect_no_images("after a refused migration");
  expect_here_as_before(pid, before, mappings_and_fds, outfile, "after a refused migration");
}

void expect_pid_taken(const std::string& ckpt, const TwoHosts& hosts, pid_t pid,
                      const std::string& to, pid_t receive, const crossrig::TlsConfig& tls,
                      const fs::path& work, const fs::path& outfile) {
  const std::set<pid_t> receiving = pids_there(hosts);
  // The shell's child there gets the pid after the one written to ns_last_pid: the tracee's.
  const pid_t holder = spawn(hosts.inside({"/bin/sh", "-c",
                                           "echo " + std::to_string(pid - 1) +
                                               " >/proc/sys/kernel/ns_last_pid; "
                                               "/bin/sleep 300 & wait"}),
                             work / "holder.log");
  live().insert(holder);
  for (int i = 0; i < 3000 && hosts.find(pid) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (hosts.find(pid) == 0) fail_logged("could not take PID " + std::to_string(pid) + " there");
  std::set<pid_t> holding = pids_there(hosts);
  for (const pid_t p : receiving)
    holding.erase(p);
  const std::string before = mappings_and_fds(pid);
  const int rc = migrate(ckpt, pid, to, Case{}, tls, work, "");
  if (rc == 0 || rc >= 128)
    fail_logged("migrate to a destination holding the PID exited with " + std::to_string(rc));
  if (file_text(g_migrate_log).find("is taken") == std::string::npos)
    fail_logged("the failed migration does not say the PID is taken there");
  if (const int received = exit_within(receive, 60, "ckpt receive"); received != 5)
    fail_logged("receive whose restore failed exited with " + std::to_string(received));
  expect_no_images("after a failed restore");
  expect_destination_runs(hosts, holding, 60, "after a failed restore");
  expect_here_as_before(pid, before, mappings_and_fds, outfile, "after a failed restore there");
}

// The destination lost between two pre-copy rounds, its receive killed as when its host dies:
// migrate fails, leaving the tracee here exactly as it was, and nothing of it there.
void expect_destination_lost(const std::string& ckpt, const TwoHosts& hosts, pid_t pid,
                             const std::string& to, const Case& c, pid_t receive,
                             const crossrig::TlsConfig& tls, const fs::path& work,
                             const fs::path& outfile) {
  const std::map<pid_t, pid_t> receiving = hosts.processes();
  if (receiving.size() != 1) fail_logged("the destination runs more than receive");
  const std::string before = mappings_and_fds(pid);
  const pid_t migrating = spawn(migrate_argv(ckpt, pid, to, c, tls, work, ""), g_migrate_log);
  live().insert(migrating);
  for (int i = 0; i < 30000 && !fs::exists(g_images / "pre-1"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  kill(receiving.begin()->second, SIGKILL);
  if (const int rc = exit_within(migrating, 120, "ckpt migrate"); rc == 0 || rc >= 128)
    fail_logged("migrate whose destination was lost exited with " + std::to_string(rc));
  if (exit_within(receive, 60, "ckpt receive") != 128 + SIGKILL)
    fail_logged("receive was not killed between the pre-copy rounds");
  expect_destination_empty(hosts, "after the destination was lost");
  expect_here_as_before(pid, before, mappings_and_fds, outfile, "after the destination was lost");
}

// The ckpt of one side killed, or interrupted as by Ctrl-C (it gives up at the next phase), at
// c.fault: the tracee survives on exactly one side.
void expect_one_survivor(const std::string& ckpt, const TwoHosts& hosts, pid_t pid,
                         const std::string& to, const Case& c, pid_t receive,
                         const crossrig::TlsConfig& tls, const fs::path& work,
                         const fs::path& outfile) {
  const std::string before = mappings_and_fds(pid);
  const std::string maps_before = maps_of(pid);
  const std::string phase = c.fault.substr(0, c.fault.find(':'));
  const bool source = phase.starts_with("migrate-"), killed = c.fault.ends_with(":kill");
  const std::string stage = (killed ? "killed at " : "interrupted at ") + phase;
  // Past the commit: the destination runs it, and a killed source's copy dies with its ckpt.
  const bool moves = phase == "migrate-committed" || (!killed && phase == "receive-release");
  const int rc = migrate(ckpt, pid, to, c, tls, work, source ? c.fault : "");
  if (source && killed ? rc != 128 + SIGKILL : moves ? rc != 0 : rc == 0 || rc >= 128)
    fail_logged("migrate " + std::string(source ? "" : "whose receive was ") + stage +
                " exited with " + std::to_string(rc));
  if (moves) {
    expect_moved(hosts, pid, receive, outfile, lazy(c), stage);
    return;
  }
  const int received = exit_within(receive, 120, "ckpt receive");
  if (!source && killed) {
    if (received != 128 + SIGKILL)
      fail_logged("receive " + stage + " exited with " + std::to_string(received));
  } else {
    if (received != 5)
      fail_logged("receive of a migration " + stage + " exited with " + std::to_string(received) +
                  " instead of 5");
    if (wait_json(g_receive_log, "migrated", "ckpt receive").value("migrated", true))
      fail_logged("receive of a migration " + stage + " reports the tracee migrated");
    expect_no_images(stage);
  }
  expect_destination_empty(hosts, stage);
  // A killed migrate cannot take back the dirty tracking its pre-copy rounds left in the
  // tracee (a userfaultfd); one that failed on its own must, and nothing else may differ.
  const bool tracked = source && killed && phase != "migrate-round";
  if (tracked)
    expect_here_as_before(pid, maps_before, maps_of, outfile, stage);
  else
    expect_here_as_before(pid, before, mappings_and_fds, outfile, stage);
}

// Post-copy cut short: the destination's copy must not run on without its pages. A link lost
// (the destination's lazy-pages server fails to fetch) kills it there and lets the frozen
// tracee here run on as before; a source killed takes its copy along, and the tracee is
// lost on both sides, as documented.
void expect_post_copy_cut(const std::string& ckpt, const TwoHosts& hosts, pid_t pid,
                          const std::string& to, const Case& c, pid_t receive,
                          const crossrig::TlsConfig& tls, const fs::path& work,
                          const fs::path& outfile) {
  const std::string before = mappings_and_fds(pid);
  const bool source = c.fault.starts_with("migrate-");
  const std::string stage = source ? "source killed in post-copy" : "link lost in post-copy";
  const int rc = migrate_after_writes(ckpt, pid, to, c, tls, work, source ? c.fault : "");
  if (source ? rc != 128 + SIGKILL : rc == 0 || rc >= 128)
    fail_logged(stage + ": migrate exited with " + std::to_string(rc));
  if (file_text(g_migrate_log).find("left for post-copy") == std::string::npos ||
      file_text(g_migrate_log).find(" 0.0 MiB left for post-copy") != std::string::npos)
    fail_logged(stage + ": the final dump left no pages for post-copy");
  if (const int received = exit_within(receive, 120, "ckpt receive"); received != 5)
    fail_logged(stage + ": receive exited with " + std::to_string(received) + " instead of 5");
  if (wait_json(g_receive_log, "migrated", "ckpt receive").value("migrated", true))
    fail_logged(stage + ": receive reports the tracee migrated");
  expect_no_images(stage);
  expect_destination_empty(hosts, stage);
  if (source) {
    if (const int code = exit_within(pid, 30, "the tracee here"); code != 128 + SIGKILL)
      fail_logged(stage + ": the tracee here ended with " + std::to_string(code) + ", not killed");
    return;
  }
  expect_here_as_before(pid, before, mappings_and_fds, outfile, stage);
}

// `ckpt dump --lazy-pages` here, `ckpt restore --lazy-pages --page-server` there (faulty
// with c.fault, after one with a certificate of another CA with refused): see lazy_dump,
// lazy_dump_refused and lazy_dump_lost at the top.
void expect_lazy_dump(const std::string& ckpt, const TwoHosts& hosts, pid_t pid, const Case& c,
                      const crossrig::test_pki::Ca& ca, const fs::path& work,
                      const fs::path& outfile, bool refused) {
  const crossrig::TlsConfig here = ca.issue("source"), there = ca.issue("destination");
  const std::string before = mappings_and_fds(pid);
  const fs::path dir = work / "dump";
  const pid_t dump = spawn(
      std::vector<std::string>{ckpt, "dump", "-t", std::to_string(pid), "-D", dir.string(),
                               "--lazy-pages", "--listen",
                               std::string(crossrig::ckpt_test::kSourceAddress) + ":0", "--json"} +
          tls_args(here),
      g_migrate_log);
  live().insert(dump);
  const std::string source = wait_json(g_migrate_log, "listening", "ckpt dump")["listening"];
  wait_json(g_migrate_log, "waiting", "ckpt dump");
  const std::vector<std::string> restore = {
      ckpt,           "restore",       "-D",   dir.string(), "-d",
      "--lazy-pages", "--page-server", source, "--pidfile",  g_receive_pidfile.string()};
  if (refused) {
    const crossrig::test_pki::Ca other(work / "pki", "other");
    crossrig::TlsConfig stranger = other.issue("stranger");
    stranger.cacert = ca.cacert();
    if (run(hosts.inside(restore + tls_args(stranger)), g_receive_log) == 0)
      fail_logged("a lazy restore with a certificate of another CA got through");
    if (file_text(g_receive_log).find("certificate") == std::string::npos)
      fail_logged("the refused lazy restore does not mention the certificate");
    wait_json(g_migrate_log, "refused", "ckpt dump");
    if (exited(dump)) fail_logged("ckpt dump --lazy-pages did not wait on after refusing a client");
    expect_destination_empty(hosts, "after a refused lazy restore");
  }
  std::vector<std::string> env = {"/usr/bin/env"};
  if (!c.fault.empty()) env.push_back("CKPT_FAULT_PHASE=" + c.fault);
  const int restored = run(hosts.inside(env + restore + tls_args(there)), g_receive_log);
  if (restored != 0)
    fail_logged("ckpt restore --page-server exited with " + std::to_string(restored));
  const int dumped = exit_within(dump, 120, "ckpt dump --lazy-pages");
  if (!c.fault.empty()) {
    const std::string stage = "destination lost in post-copy";
    if (dumped != 5) fail_logged(stage + ": dump exited with " + std::to_string(dumped));
    expect_destination_empty(hosts, stage);
    expect_here_as_before(pid, before, mappings_and_fds, outfile, stage);
    return;
  }
  if (dumped != 0) fail_logged("ckpt dump --lazy-pages exited with " + std::to_string(dumped));
  nlohmann::json r = wait_json(g_migrate_log, "served_bytes", "ckpt dump");
  // All of the heap stayed here and went over (beyond it: stacks, libraries' data).
  if (r.value("served_bytes", 0ull) < (64ull << 20) ||
      r.value("served_bytes", 0ull) > r.value("pages_remote", 0ull))
    fail_logged("dump --lazy-pages did not serve the heap: " + r.dump());
  if (const int code = exit_within(pid, 30, "the tracee here"); code != 128 + SIGKILL)
    fail_logged("the tracee here ended with " + std::to_string(code) + ", not killed");
  expect_pass_there(hosts, pid, outfile, "after the lazy restore");
  expect_destination_empty(hosts, "after the lazy restore");
}

}  // namespace

int main(int argc, char** argv) {
  std::string ckpt, heap, writer, tcp, workdir, which;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--ckpt")
      ckpt = argv[i + 1];
    else if (a == "--heap")
      heap = argv[i + 1];
    else if (a == "--writer")
      writer = argv[i + 1];
    else if (a == "--tcp")
      tcp = argv[i + 1];
    else if (a == "--workdir")
      workdir = argv[i + 1];
    else if (a == "--case")
      which = argv[i + 1];
  }
  const std::optional<Case> c = case_named(which);
  if (ckpt.empty() || heap.empty() || writer.empty() || tcp.empty() || workdir.empty() || !c) {
    std::cerr
        << "usage: migrate_driver --ckpt PATH --heap PATH --writer PATH --tcp PATH --workdir DIR "
           "--case "
           "unsupported|basic|lazy|stop_and_copy|big|writer|writer_lazy|refused|pid_taken|"
           "destination_lost|"
           "post_copy_lost|kill_source_post_copy|lazy_dump|lazy_dump_refused|lazy_dump_lost|"
           "kill:PHASE|"
           "kill_lazy:PHASE|interrupt:PHASE\n";
    return 2;
  }
  // The tracee here is our child; so, once their parents exit, is what ckpt leaves here.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail("cannot become a child subreaper");
  std::optional<TwoHosts> hosts;
  try {
    hosts.emplace();
  } catch (const std::exception& e) {
    fail(std::string("cannot make the two hosts: ") + e.what());
  }
  live().insert(hosts->init());
  const fs::path work = workdir;
  fs::remove_all(work);
  fs::create_directories(work / "pki");
  fs::create_directories(work / "migrate");
  g_migrate_log = work / "migrate.log";
  g_receive_log = work / "receive.log";
  g_receive_pidfile = work / "receive.pid";
  g_images = fs::path("/dev/shm") / ("crossrig-migrate-" + std::to_string(getpid()));
  crossrig::ckpt_test::at_fail(remove_images);
  fs::create_directories(g_images);
  crossrig::test_pki::Ca ca(work / "pki", "ca");
  const fs::path pidfile = work / "tracee.pid", outfile = work / "tracee.out";
  const pid_t child = spawn({"/usr/bin/env", "CKPT_TRACEE_HEAP_MB=" + c->heap_mb,
                             c->writer ? writer : (c->tcp ? tcp : heap), "--pidfile",
                             pidfile.string(), "--outfile", outfile.string()},
                            work / "tracee.log", work);
  live().insert(child);
  const pid_t pid = std::stoi(crossrig::ckpt_test::wait_file(pidfile, "the tracee's pidfile"));
  live().insert(pid);
  if (which.starts_with("lazy_dump")) {
    expect_lazy_dump(ckpt, *hosts, pid, *c, ca, work, outfile, which == "lazy_dump_refused");
    fs::remove_all(work);
    remove_images();
    std::cout << "PASS\n";
    return 0;
  }
  const crossrig::TlsConfig receive_tls = ca.issue("receive"), migrate_tls = ca.issue("migrate");
  auto [receive, to] =
      start_receive(ckpt, *hosts, receive_tls, c->fault.starts_with("receive-") ? c->fault : "");

  if (which == "post_copy_lost" || which == "kill_source_post_copy") {
    expect_post_copy_cut(ckpt, *hosts, pid, to, *c, receive, migrate_tls, work, outfile);
  } else if (!c->fault.empty()) {
    expect_one_survivor(ckpt, *hosts, pid, to, *c, receive, migrate_tls, work, outfile);
  } else if (which == "unsupported") {
    expect_unsupported(ckpt, pid, to, receive, migrate_tls, work, outfile);
  } else if (which == "pid_taken") {
    expect_pid_taken(ckpt, *hosts, pid, to, receive, migrate_tls, work, outfile);
  } else if (which == "destination_lost") {
    expect_destination_lost(ckpt, *hosts, pid, to, *c, receive, migrate_tls, work, outfile);
  } else {
    if (which == "refused") {
      crossrig::test_pki::Ca other(work / "pki", "other");
      crossrig::TlsConfig stranger = other.issue("stranger");
      stranger.cacert = ca.cacert();
      expect_refused(ckpt, pid, to, receive, stranger, work);
    }
    if (int rc = migrate(ckpt, pid, to, *c, migrate_tls, work, ""); rc != 0)
      fail_logged("ckpt migrate exited with " + std::to_string(rc));
    expect_summary(pid, to, *c);
    expect_moved(*hosts, pid, receive, outfile, lazy(*c), "after the migration");
  }
  fs::remove_all(work);
  remove_images();
  std::cout << "PASS\n";
  return 0;
}
