#include "rig/jobs/run_command.h"

#include <boost/program_options.hpp>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "rig/inventory/board_json.h"
#include "rig/inventory/field_syntax.h"
#include "rig/inventory/inventory.h"
#include "rig/jobs/job_report.h"
#include "rig/jobs/job_runner.h"
#include "rig/power/drivers.h"

namespace po = boost::program_options;

namespace crossrig::rig {

namespace {

constexpr const char* kHelp = R"(Usage: rig run --board B [--kernel K --ramdisk R] [options]

Runs one test job: locks the board, stages K and R into its tftp_dir (under the inventory's
kernel and ramdisk names, else their own), power-cycles it and follows its console through
firmware, kernel and test until <LAVA_SIGNAL_ENDRUN>, collecting
<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=... RESULT=pass|fail|skip> lines, then powers it off.
A board that hangs (no end within --timeout) or panics is power-cycled and retried.
Without --kernel and --ramdisk, the board's default job from the inventory (its job:
mapping) runs; options given on the command line override that job's.

The board's tftp_dir must exist and be served by a TFTP server the board reaches: `rig tftp
--root DIR` (a service on the lab host) or the virtual lab's own server.

Options:
  --kernel FILE       kernel to boot (default: the board's job.kernel)
  --ramdisk FILE      ramdisk to boot (default: the board's job.ramdisk)
  --dtb FILE          device tree, staged under the board's dtb name (default: job.dtb)
  --cmdline TEXT      kernel command line, staged as tftp_dir/cmdline (default: job.cmdline)
  --timeout S         seconds each attempt may take (default: job.timeout, else 600)
  --retries N         retries of a hung or crashed board (default 0)
  --wait S            wait up to S seconds for a board another job holds (default 0)
  --off-time S        seconds off in each power cycle (default: the board's off_time)
  --job-dir DIR       where console.log and results.json go
                      (default: $RIG_JOB_ROOT or ./rig-jobs, then BOARD-UTCSTAMP)
  --inventory FILE    the inventory (default: the running lab's, $RIG_INVENTORY, ./inventory.yaml)
  --json              print the results JSON on stdout: board, arch, result (pass, fail or
                      error), tests (name, result, measurement, units), times (seconds:
                      firmware = power-on to the kernel's first line, kernel = to STARTRUN,
                      job = STARTRUN to ENDRUN), console_log and job_dir (absolute paths);
                      JOB_DIR/results.json holds the same

Board locks are LOCK_DIR/BOARD.lock: $RIG_LOCK_DIR, else $XDG_RUNTIME_DIR/rig/locks, else
/run/rig/locks.

Exit codes: 0 every test passed, 1 a test failed, the board hung on every attempt, or it is
busy, 2 usage or inventory error, 3 console or power switch unreachable, 4 power switch
refused the credentials.
)";

constexpr int kUsage = 2;

int usage_error(const std::string& what) {
  std::cerr << "rig run: " << what << " (see rig run --help)\n";
  return kUsage;
}

std::chrono::milliseconds seconds_of(const std::string& text, const char* option) {
  auto duration = parse_duration(text);
  if (!duration) throw po::error(std::string("--") + option + " takes seconds from 0 to 3600");
  return *duration;
}

std::string default_job_dir(const std::string& board) {
  const char* root = std::getenv("RIG_JOB_ROOT");
  std::string base = root && *root ? root : "rig-jobs";
  char stamp[32];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) == 0) stamp[0] = '\0';
  return base + "/" + board + "-" + stamp + "-" + std::to_string(getpid());
}

std::string absolute(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

// Files and settings from the command line, else from the board's default job; a usage
// problem when neither gives a kernel and a ramdisk.
std::optional<std::string> choose_files(const Board& board, const po::variables_map& vm,
                                        JobSpec& spec) {
  auto given = [&](const char* name) -> std::optional<std::string> {
    if (!vm.count(name)) return std::nullopt;
    return vm[name].as<std::string>();
  };
  const std::optional<BoardJob>& job = board.job;
  auto kernel = given("kernel"), ramdisk = given("ramdisk"), dtb = given("dtb");
  if (!job && (!kernel || !ramdisk)) {
    return "board '" + board.name +
           "' has no default job in the inventory: give --kernel and --ramdisk, or add a job: "
           "mapping (kernel, ramdisk) to the board";
  }
  spec.files.kernel = kernel ? absolute(*kernel) : job->kernel;
  spec.files.ramdisk = ramdisk ? absolute(*ramdisk) : job->ramdisk;
  if (dtb) {
    spec.files.dtb = absolute(*dtb);
  } else if (job) {
    spec.files.dtb = job->dtb;
  }
  spec.files.cmdline = given("cmdline");
  if (!spec.files.cmdline && job) spec.files.cmdline = job->cmdline;
  if (!vm.count("timeout") && job && job->timeout_s) {
    spec.attempt_timeout = std::chrono::milliseconds(std::lround(*job->timeout_s * 1000));
  }
  return std::nullopt;
}

// With --json, a job that could not run still prints its object (result "error").
void print_error_report(bool json, const JobSpec& spec, const std::string& error) {
  if (!json || spec.board.name.empty()) return;
  std::ifstream kept(spec.job_dir + "/results.json");
  auto report = nlohmann::json::parse(kept, nullptr, false);
  if (report.is_discarded() || report.value("result", "") != "error") {
    report = error_report(spec.board, nullptr, spec.job_dir, error);
  }
  std::cout << report.dump(2) << '\n';
}

}  // namespace

int run_command(int argc, char** argv) {
  po::options_description opts;
  opts.add_options()("help,h", "")("json", "")("board", po::value<std::string>())(
      "kernel", po::value<std::string>())("ramdisk", po::value<std::string>())(
      "dtb", po::value<std::string>())("cmdline", po::value<std::string>())(
      "timeout", po::value<std::string>())("retries", po::value<int>())(
      "wait", po::value<std::string>())("off-time", po::value<std::string>())(
      "job-dir", po::value<std::string>())("inventory", po::value<std::string>());
  po::variables_map vm;
  JobSpec spec;
  std::optional<std::string> inventory_flag;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << kHelp;
      return 0;
    }
    if (!vm.count("board")) return usage_error("--board is required");
    if (vm.count("timeout"))
      spec.attempt_timeout = seconds_of(vm["timeout"].as<std::string>(), "timeout");
    if (vm.count("wait")) spec.lock_wait = seconds_of(vm["wait"].as<std::string>(), "wait");
    if (vm.count("retries")) spec.retries = vm["retries"].as<int>();
    if (spec.retries < 0 || spec.retries > 100) return usage_error("--retries takes 0 to 100");
    if (spec.attempt_timeout.count() == 0) return usage_error("--timeout must be more than 0");
    if (vm.count("inventory")) inventory_flag = vm["inventory"].as<std::string>();
  } catch (const po::error& e) {
    return usage_error(e.what());
  }

  std::string board_name = vm["board"].as<std::string>();
  bool json = vm.count("json") > 0;
  try {
    Inventory inventory = load_chosen_inventory(inventory_flag);
    const Board* board = inventory.find(board_name);
    if (!board) {
      std::cerr << "rig run: no board '" << board_name << "' in " << inventory.source
                << "; rig boards lists them\n";
      return kUsage;
    }
    spec.board = *board;
    if (auto bad = choose_files(*board, vm, spec)) return usage_error(*bad);
    spec.power = power_options_of(*board);
    spec.off_time = std::chrono::milliseconds(static_cast<long>(board->off_time_s * 1000));
    if (vm.count("off-time"))
      spec.off_time = seconds_of(vm["off-time"].as<std::string>(), "off-time");
    spec.job_dir = absolute(vm.count("job-dir") ? vm["job-dir"].as<std::string>()
                                                : default_job_dir(board->name));
    JobMachine job = run_job(spec);
    nlohmann::json report = job_report(*board, job, spec.job_dir);
    if (json) {
      std::cout << report.dump(2) << '\n';
    } else {
      for (const auto& r : report["results"]) {
        std::cout << r["id"].get<std::string>() << ": " << r["result"].get<std::string>() << '\n';
      }
      std::cout << board->name << ": job " << outcome_name(job.outcome()) << " after "
                << job.attempts().size() << " attempt(s); logs in " << spec.job_dir << '\n';
    }
    return job.outcome() == JobOutcome::kPassed ? 0 : 1;
  } catch (const po::error& e) {
    return usage_error(e.what());
  } catch (const InventoryError& e) {
    std::cerr << e.what() << '\n';
    return kUsage;
  } catch (const JobError& e) {
    std::cerr << "rig run: " << e.what() << '\n';
    print_error_report(json, spec, e.what());
    return e.exit_code();
  } catch (const PowerError& e) {
    std::cerr << "rig run: " << e.what() << '\n';
    print_error_report(json, spec, e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "rig run: board '" << board_name << "': " << e.what() << '\n';
    print_error_report(json, spec, e.what());
    return 1;
  }
}

}  // namespace crossrig::rig
