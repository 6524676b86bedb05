#include "rig/matrix/matrix_command.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>

#include "common/text_lists.h"
#include "common/utc_time.h"
#include "rig/inventory/board_json.h"
#include "rig/inventory/inventory.h"
#include "rig/matrix/lava_night.h"
#include "rig/matrix/matrix_runner.h"
#include "rig/matrix/matrix_view.h"
#include "rig/matrix/reports.h"
#include "rig/matrix/results_tree.h"

namespace crossrig::rig {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace crossrig::rig::matrix;

constexpr int kRegressed = 1, kUsage = 2;

constexpr const char* kHelp = R"(Usage: rig matrix [options]
       rig matrix --from-lava DIR [--server URL] [--token-file F] [options]
       rig nightly [options] [--keep-nights N] [--keep-kernels N]

Runs the night's matrix: builds each arch's payload (--build), runs the job of every board of
the inventory (as `rig run` does, several boards at once), and writes RESULTS/DATE/:
  results.json   the night: source, builds, every board's job and test results
  junit.xml      a <testsuite> per board, for any CI
  kcidb.json     KCIDB v5.3 (checkout, a build per arch, a test per board and test case)
  report.html    one self-contained page: the arch x test grid, regressions against the
                 previous night and since when each failure exists, links to console logs,
                 plots of boot time and measured rates (MiB/s) per arch over the nights
  BOARD/         console.log and results.json of the board's job
  build-ARCH.log the build's output
The night is written under RESULTS/.DATE.partial-PID and renamed into place at the end, so a
night is whole or absent; a second run of the same date replaces the first. Progress goes to
stderr, one line per build and job.

With --from-lava, the night's jobs are those `rig lava submit --export DIR` handed to a LAVA
server (DIR/submitted.json): nothing is built or run here; rig waits up to --wait seconds for
jobs still queued or running, then reads each job's result, test cases, console and times
through the server's API into the same reports (BOARD/ then holds console.log, lava-log.yaml,
LAVA's whole log, and lava-job.json). A job not finished by then, or that LAVA ended
Incomplete or Canceled, is a board run with result error and LAVA's reason.

rig nightly does the same, then keeps each board's booted kernel under RESULTS/kernels/BOARD/
(SHA12-NAME) and removes all but the newest --keep-nights nights and, per board, all but the
--keep-kernels kernels the kept nights booted most recently. Run it from a systemd timer or
cron (rig/matrix/README.md).

Options:
  --inventory FILE  the lab's boards (default as rig boards: the running virtual lab's,
                    $RIG_INVENTORY, ./inventory.yaml)
  --boards A,B      only these boards (default: every board with a job: mapping, or of an
                    arch the --build command makes files for)
  --results DIR     the results tree (default ./results)
  --date DATE       the night's name, YYYY-MM-DD (default: today, UTC)
  --build CMD       shell command run once per arch before the jobs, {arch} replaced by the
                    arch's name; exit 0 means built. A JSON manifest it prints on stdout
                    ({"kernel": K, "ramdisk": R}, or a list of them with "arch", as
                    `toolchains/lab-images --json {arch}` prints) names the files that arch's
                    boards boot; otherwise they boot their inventory job's files. A board of
                    an arch whose build failed does not run (result error)
  --source DIR      the git checkout the payloads come from, recorded as the night's source
                    (default: the current directory)
  --parallel N      boards running at once (default 2)
  --timeout S       passed to rig run: seconds per attempt
  --retries N       passed to rig run: attempts after a hung one
  --wait S          passed to rig run: wait for a board another job holds (default 600);
                    with --from-lava: wait for LAVA's jobs to finish (default 600)
  --from-lava DIR   collect the night from LAVA: DIR is where rig lava export wrote and
                    rig lava submit recorded the jobs
  --server URL      with --from-lava: the LAVA server (default: the one the jobs were
                    submitted to)
  --token-file F    with --from-lava: an API token (its first line) for reading private
                    jobs; public ones need none
  --url-base URL    where RESULTS is served, for the links in kcidb.json and junit.xml
                    (default file://RESULTS/)
  --json            print a summary as JSON on stdout: date, dir, totals, regressions
  --keep-nights N   nightly: nights kept (default 30)
  --keep-kernels N  nightly: kernels kept per board (default 5)
  -h, --help        this text

Exit codes: 0 nothing regressed, 1 something regressed (a test that passed on the board's
previous night fails, errors or was not reported), 2 usage or inventory error, the results
could not be written, or LAVA refused the token or could not be reached.
)";

int usage_error(const std::string& command, const std::string& what) {
  std::cerr << "rig " << command << ": " << what << "; rig " << command << " --help says more\n";
  return kUsage;
}

std::string today_utc() {
  return utc_now().substr(0, 10);
}

std::vector<Board> chosen_boards(const Inventory& inventory, const po::variables_map& vm,
                                 std::string& problem) {
  std::vector<Board> boards;
  if (vm.count("boards")) {
    for (const auto& name : split_commas(vm["boards"].as<std::string>())) {
      const Board* b = inventory.find(name);
      if (!b) {
        problem = "no board '" + name + "' in " + inventory.source + " (rig boards lists them)";
        return {};
      }
      boards.push_back(*b);
    }
    return boards;
  }
  const bool built = vm.count("build") > 0;
  for (const auto& b : inventory.boards) {
    if (b.job || built) boards.push_back(b);
  }
  if (boards.empty()) {
    problem = "no board of " + inventory.source +
              " has a job: mapping; add one, or give --build a command that names the files";
  }
  return boards;
}

// The submission --from-lava names, narrowed to --boards, and a client of its server (or of
// --server's); a problem for the user, or "".
std::string load_submission(const po::variables_map& vm,
                            std::optional<lava::Submission>& submission,
                            std::optional<lava::LavaServer>& server) {
  const std::string dir = vm["from-lava"].as<std::string>();
  const std::string path = lava::submission_path(dir);
  try {
    std::ifstream in(path);
    if (!in) {
      return "no " + path + ": run rig lava submit --export " + dir + " first";
    }
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return path + " is not JSON";
    submission = lava::submission_from_json(j, path);
    std::string token;
    if (vm.count("token-file")) token = lava::read_token_file(vm["token-file"].as<std::string>());
    server.emplace(vm.count("server") ? vm["server"].as<std::string>() : submission->server, token);
  } catch (const std::exception& e) {
    return e.what();
  }
  if (vm.count("boards")) {
    const std::string problem =
        lava::keep_boards(submission->jobs, split_commas(vm["boards"].as<std::string>()), path);
    if (!problem.empty()) return problem;
  }
  if (submission->jobs.empty()) return path + " lists no jobs";
  return "";
}

nlohmann::json summary_json(const MatrixView& view, const std::string& dir) {
  nlohmann::json regressions = nlohmann::json::array();
  for (const auto& [key, cell] : view.cells) {
    if (!cell.regression) continue;
    regressions.push_back({{"test", key.first},
                           {"board", key.second},
                           {"result", status_name(cell.status)},
                           {"last_pass", cell.last_pass},
                           {"console_log", cell.log.empty() ? "" : dir + "/" + cell.log}});
  }
  return {{"date", view.date},
          {"dir", dir},
          {"report", dir + "/report.html"},
          {"passed", view.passed},
          {"failed", view.failed},
          {"errors", view.errors},
          {"skipped", view.skipped},
          {"missing", view.missing},
          {"fixed", view.fixes},
          {"regressions", regressions}};
}

void print_summary(const MatrixView& view, const std::string& dir, const Night& night) {
  for (const auto& r : night.boards) {
    if (r.result == "error") std::cout << "job error: " << r.board << ": " << r.error << '\n';
  }
  for (const auto& [key, cell] : view.cells) {
    if (!cell.regression) continue;
    std::cout << "REGRESSION " << key.first << " on " << key.second << ": "
              << status_name(cell.status) << " tonight, passed " << cell.last_pass;
    if (!cell.log.empty()) std::cout << "; log " << dir << "/" << cell.log;
    std::cout << '\n';
  }
  std::cout << "matrix " << view.date << ": " << view.passed << " passed, " << view.failed
            << " failed, " << view.errors << " errors, " << view.missing << " missing, "
            << view.skipped << " skipped; " << view.regressions << " regressions, " << view.fixes
            << " fixed\nreport: " << dir << "/report.html\n";
}

int matrix_main(const std::string& command, int argc, char** argv) {
  const bool nightly = command == "nightly";
  po::options_description opts;
  opts.add_options()("help,h", "")("json", "")("inventory", po::value<std::string>())(
      "boards", po::value<std::string>())("results", po::value<std::string>())(
      "date", po::value<std::string>())("build", po::value<std::string>())(
      "source", po::value<std::string>())("parallel", po::value<int>())(
      "timeout", po::value<std::string>())("retries", po::value<std::string>())(
      "wait", po::value<std::string>())("url-base", po::value<std::string>())(
      "from-lava", po::value<std::string>())("server", po::value<std::string>())(
      "token-file", po::value<std::string>());
  if (nightly) {
    opts.add_options()("keep-nights", po::value<int>())("keep-kernels", po::value<int>());
  }
  po::variables_map vm;
  RunOptions run;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(command, e.what());
  }
  if (vm.count("help")) {
    std::cout << kHelp;
    return 0;
  }
  run.date = vm.count("date") ? vm["date"].as<std::string>() : today_utc();
  if (!is_night_name(run.date)) return usage_error(command, "--date takes YYYY-MM-DD");
  run.parallel = vm.count("parallel") ? vm["parallel"].as<int>() : 2;
  if (run.parallel < 1 || run.parallel > 64)
    return usage_error(command, "--parallel takes 1 to 64");
  const int keep_nights = vm.count("keep-nights") ? vm["keep-nights"].as<int>() : 30;
  const int keep_kernels = vm.count("keep-kernels") ? vm["keep-kernels"].as<int>() : 5;
  if (keep_nights < 1 || keep_kernels < 1)
    return usage_error(command, "--keep-nights and --keep-kernels take 1 or more");
  if (vm.count("build")) run.build_command = vm["build"].as<std::string>();
  if (vm.count("timeout")) run.timeout = vm["timeout"].as<std::string>();
  if (vm.count("retries")) run.retries = vm["retries"].as<std::string>();
  run.wait = vm.count("wait") ? vm["wait"].as<std::string>() : "600";
  run.source_dir = fs::absolute(vm.count("source") ? vm["source"].as<std::string>() : ".").string();
  run.rig = fs::read_symlink("/proc/self/exe").string();
  const bool json = vm.count("json") > 0;
  run.progress = [&](const std::string& line) { std::cerr << command << ": " << line << '\n'; };

  const bool from_lava = vm.count("from-lava") > 0;
  std::vector<Board> boards;
  std::optional<lava::Submission> submission;
  std::optional<lava::LavaServer> server;
  LavaCollectOptions collect;
  if (from_lava) {
    for (const char* o : {"build", "inventory", "parallel", "timeout", "retries"}) {
      if (vm.count(o)) {
        return usage_error(
            command, std::string("--") + o + " does not apply to --from-lava: LAVA ran the jobs");
      }
    }
    std::string problem = load_submission(vm, submission, server);
    if (!problem.empty()) return usage_error(command, problem);
    const std::string wait = run.wait.value_or("600");
    if (wait.empty() || wait.size() > 9 || wait.find_first_not_of("0123456789") != wait.npos) {
      return usage_error(command, "--wait takes seconds");
    }
    collect.wait = std::chrono::seconds(std::stol(wait));
    collect.progress = run.progress;
  } else {
    if (vm.count("server") || vm.count("token-file")) {
      return usage_error(command, "--server and --token-file go with --from-lava DIR");
    }
    Inventory inventory;
    try {
      inventory = load_chosen_inventory(
          vm.count("inventory") ? std::optional(vm["inventory"].as<std::string>()) : std::nullopt);
      std::string problem;
      boards = chosen_boards(inventory, vm, problem);
      if (!problem.empty()) return usage_error(command, problem);
    } catch (const std::exception& e) {
      std::cerr << e.what() << '\n';
      return kUsage;
    }
    run.inventory = fs::absolute(inventory.source).string();
  }

  const std::string root =
      fs::absolute(vm.count("results") ? vm["results"].as<std::string>() : "results")
          .lexically_normal()
          .string();
  Links links{vm.count("url-base") ? vm["url-base"].as<std::string>() : "file://" + root + "/"};
  if (links.url_base.empty() || links.url_base.back() != '/') links.url_base += '/';
  try {
    remove_abandoned(root);
    const std::string partial = make_partial_dir(root, run.date);
    Night night;
    if (from_lava) {
      run.progress(std::to_string(submission->jobs.size()) +
                   (submission->jobs.size() == 1 ? " LAVA job on " : " LAVA jobs on ") +
                   server->base_url() + "; writing " + root + "/" + run.date);
      night = begin_night(run.date, run.source_dir);
      night.boards = collect_lava_runs(*submission, *server, collect, partial);
      night.finished = utc_now();
    } else {
      run.progress(std::to_string(boards.size()) + (boards.size() == 1 ? " board, " : " boards, ") +
                   std::to_string(run.parallel) + " at a time; writing " + root + "/" + run.date);
      night = run_night(boards, run, partial);
    }
    std::vector<std::string> warnings;
    const auto earlier = earlier_nights(root, run.date, warnings);
    for (const auto& w : warnings)
      run.progress("warning: " + w);
    const MatrixView view = analyze(night, earlier);
    write_file_atomically(partial + "/results.json", to_json(night).dump(2) + "\n");
    write_file_atomically(partial + "/junit.xml", junit_xml(night, view, links));
    write_file_atomically(partial + "/kcidb.json", kcidb_json(night, view, links).dump(2) + "\n");
    write_file_atomically(partial + "/report.html", report_html(night, view));
    const std::string dir = publish_night(root, run.date, partial);
    if (nightly) {
      const Pruned pruned = keep_and_prune(root, night, keep_nights, keep_kernels);
      for (const auto& n : pruned.nights)
        run.progress("removed night " + n);
      for (const auto& k : pruned.kernels)
        run.progress("removed kernel " + k);
    }
    if (json) {
      std::cout << summary_json(view, dir).dump(2) << '\n';
    } else {
      print_summary(view, dir, night);
    }
    return view.regressions > 0 ? kRegressed : 0;
  } catch (const lava::LavaError& e) {
    std::cerr << "rig " << command << ": " << e.what() << '\n';
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "rig " << command << ": " << e.what()
              << "; check that the results directory is writable\n";
    return kUsage;
  }
}

}  // namespace

int matrix_command(int argc, char** argv) {
  return matrix_main("matrix", argc, argv);
}

int nightly_command(int argc, char** argv) {
  return matrix_main("nightly", argc, argv);
}

}  // namespace crossrig::rig
