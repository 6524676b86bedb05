#include "rig/matrix/matrix_runner.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/utc_time.h"
#include "rig/inventory/vocabulary.h"
#include "rig/matrix/build_output.h"
#include "rig/matrix/child.h"
#include "rig/matrix/results_tree.h"

namespace crossrig::rig::matrix {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The last non-empty line of a file, for an error message.
std::string last_line(const fs::path& path) {
  std::istringstream in(read_text(path));
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

std::string git(const std::string& dir, const std::vector<std::string>& args) {
  if (dir.empty()) return {};
  const fs::path out = fs::temp_directory_path() /
                       ("rig-matrix-git-" + std::to_string(::getpid()) + "-" +
                        std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())));
  std::vector<std::string> argv = {"git", "-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  const int rc = run_child(argv, out.string(), "/dev/null");
  std::string text = rc == 0 ? trimmed(read_text(out)) : std::string();
  std::error_code ec;
  fs::remove(out, ec);
  return text;
}

Build build_arch(const std::string& arch, const RunOptions& options, const fs::path& night) {
  Build b;
  b.arch = arch;
  b.command = build_command_for(options.build_command, arch);
  b.log = "build-" + arch + ".log";
  b.started = utc_now();
  const fs::path out = night / (".build-" + arch + ".out");
  const auto start = Clock::now();
  const int rc = run_child({"/bin/sh", "-c", b.command}, out.string(), (night / b.log).string());
  b.seconds = seconds_since(start);
  b.ok = rc == 0;
  const std::string printed = read_text(out);
  {
    std::ofstream log(night / b.log, std::ios::app);
    log << printed;
  }
  fs::remove(out);
  if (const auto files = parse_build_output(printed, arch); files && b.ok) {
    b.kernel = files->kernel;
    b.ramdisk = files->ramdisk;
    b.kernel_release = files->kernel_release;
    b.source = files->source;
  }
  return b;
}

BoardRun not_run(const Board& board, const std::string& why) {
  BoardRun r;
  r.board = board.name;
  r.arch = std::string(arch_name(board.arch));
  r.boot = std::string(boot_method_name(board.boot));
  r.result = "error";
  r.error = why;
  r.job_dir = board.name;
  r.started = utc_now();
  return r;
}

BoardRun run_board(const Board& board, const Build* build, const RunOptions& options,
                   const fs::path& night) {
  const std::string arch(arch_name(board.arch));
  if (build && !build->ok) {
    return not_run(board,
                   "the " + arch + " build failed (see " + build->log + "); the job did not run");
  }
  const fs::path job_dir = night / board.name;
  fs::create_directories(job_dir);
  std::vector<std::string> argv = {options.rig,      "run",         "--board",
                                   board.name,       "--json",      "--job-dir",
                                   job_dir.string(), "--inventory", options.inventory};
  std::string kernel = board.job ? board.job->kernel : std::string();
  if (build && !build->kernel.empty()) {
    kernel = build->kernel;
    argv.insert(argv.end(), {"--kernel", build->kernel, "--ramdisk", build->ramdisk});
  }
  if (options.timeout) argv.insert(argv.end(), {"--timeout", *options.timeout});
  if (options.retries) argv.insert(argv.end(), {"--retries", *options.retries});
  if (options.wait) argv.insert(argv.end(), {"--wait", *options.wait});

  const std::string started = utc_now();
  const auto start = Clock::now();
  const fs::path out = job_dir / "rig-run.json", err = job_dir / "rig-run.err";
  const int rc = run_child(argv, out.string(), err.string());
  BoardRun r;
  auto report = nlohmann::json::parse(read_text(job_dir / "results.json"), nullptr, false);
  if (report.is_discarded()) report = nlohmann::json::parse(read_text(out), nullptr, false);
  try {
    if (report.is_discarded()) throw std::runtime_error("no results");
    r = board_run_from_job(report, night.string());
  } catch (const std::exception&) {
    const std::string why = last_line(err);
    r = not_run(board, "rig run exited " + std::to_string(rc) +
                           (why.empty() ? " without results" : ": " + why));
  }
  r.board = board.name;
  r.started = started;
  r.seconds = seconds_since(start);
  if (r.result == "error" && r.error.empty()) r.error = last_line(err);
  // A job that ended before the console opened (power, lock, staging) leaves rig run's own
  // words as its only log; the reports link that instead.
  if (r.console_log.empty() || !fs::exists(night / r.console_log)) {
    r.console_log = fs::file_size(err) > 0 ? (fs::path(board.name) / err.filename()).string() : "";
  }
  if (!kernel.empty() && fs::is_regular_file(kernel)) {
    r.kernel = kernel;
    try {
      r.kernel_sha256 = file_sha256(kernel);
    } catch (const std::runtime_error&) {
      // Unreadable now: the night records the path only, and nightly keeps no copy of it.
    }
  }
  return r;
}

std::string summary(const BoardRun& r) {
  int passed = 0;
  for (const auto& t : r.tests)
    passed += t.status == Status::kPass;
  std::ostringstream s;
  s << r.board << " (" << r.arch << "): " << r.result;
  if (!r.tests.empty()) s << ", " << passed << "/" << r.tests.size() << " tests passed";
  if (!r.error.empty()) s << ": " << r.error;
  s << ", " << static_cast<long>(r.seconds + 0.5) << " s";
  return s.str();
}

}  // namespace

Source git_source(const std::string& dir) {
  Source s;
  s.commit = git(dir, {"rev-parse", "HEAD"});
  if (s.commit.empty()) return s;
  s.repository = git(dir, {"remote", "get-url", "origin"});
  s.branch = git(dir, {"rev-parse", "--abbrev-ref", "HEAD"});
  s.describe = git(dir, {"describe", "--always", "--dirty"});
  return s;
}

Night begin_night(const std::string& date, const std::string& source_dir) {
  Night night;
  night.date = date;
  night.started = utc_now();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  night.host = host;
  night.source = git_source(source_dir);
  return night;
}

Night run_night(const std::vector<Board>& boards, const RunOptions& options,
                const std::string& night_dir) {
  const auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  Night night = begin_night(options.date, options.source_dir);
  const fs::path dir = night_dir;

  std::map<std::string, std::size_t> build_of;
  if (!options.build_command.empty()) {
    std::set<int> arches;
    for (const auto& b : boards)
      arches.insert(static_cast<int>(b.arch));
    for (int a : arches) {
      const std::string arch(arch_name(static_cast<Arch>(a)));
      say("build " + arch + ": " + build_command_for(options.build_command, arch));
      night.builds.push_back(build_arch(arch, options, dir));
      const Build& b = night.builds.back();
      say("build " + arch + ": " +
          (b.ok ? "ok" : "FAILED, its output is in " + options.date + "/" + b.log) + " (" +
          std::to_string(static_cast<long>(b.seconds + 0.5)) + " s)");
      build_of[arch] = night.builds.size() - 1;
    }
  }

  night.boards.resize(boards.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex say_lock;
  const auto worker = [&] {
    for (std::size_t i = next++; i < boards.size(); i = next++) {
      const Board& board = boards[i];
      const std::string arch(arch_name(board.arch));
      const auto it = build_of.find(arch);
      const Build* build = it == build_of.end() ? nullptr : &night.builds[it->second];
      {
        std::lock_guard lock(say_lock);
        say("job " + board.name + " (" + arch + "): started");
      }
      night.boards[i] = run_board(board, build, options, dir);
      std::lock_guard lock(say_lock);
      say("[" + std::to_string(++done) + "/" + std::to_string(boards.size()) + "] " +
          summary(night.boards[i]));
    }
  };
  std::vector<std::thread> workers;
  const int n = std::max(1, std::min<int>(options.parallel, static_cast<int>(boards.size())));
  for (int i = 0; i < n; ++i)
    workers.emplace_back(worker);
  for (auto& w : workers)
    w.join();
  night.finished = utc_now();
  return night;
}

}  // namespace crossrig::rig::matrix
