#include "rig/matrix/lava_night.h"

#include <filesystem>
#include <set>
#include <thread>

#include "common/utc_time.h"
#include "rig/matrix/results_tree.h"

namespace crossrig::rig::matrix {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string job_name(const lava::SubmittedJob& s) {
  return "LAVA job " + std::to_string(s.id) + " (" + s.url + ")";
}

nlohmann::json job_json(const lava::SubmittedJob& s, const lava::LavaJob& job) {
  return {{"id", job.id},
          {"url", s.url},
          {"file", s.file},
          {"state", job.state},
          {"health", job.health},
          {"device", job.actual_device},
          {"description", job.description},
          {"failure_comment", job.failure_comment},
          {"submit_time", job.submit_time},
          {"start_time", job.start_time},
          {"end_time", job.end_time}};
}

}  // namespace

BoardRun lava_board_run(const lava::SubmittedJob& submitted, const lava::LavaJob& job,
                        const std::vector<lava::LavaTestCase>& tests, const lava::LavaLog& log) {
  BoardRun r;
  r.board = submitted.board;
  r.arch = submitted.arch;
  r.boot = submitted.boot;
  if (auto start = parse_utc(job.start_time)) {
    r.started = format_utc(*start);
    if (auto end = parse_utc(job.end_time); end && *end >= *start) r.seconds = *end - *start;
  }
  r.firmware_s = log.firmware_s;
  r.kernel_s = log.kernel_s;
  r.job_s = log.job_s;
  bool failed = false;
  for (const auto& t : tests) {
    if (t.suite == "lava") continue;
    auto id = log.test_case_ids.find({t.suite, t.name});
    TestResult result;
    if (id != log.test_case_ids.end()) {
      result.name = id->second;
    } else {
      // A lava-test-shell definition's case: its suite ("0_smoke") keeps it apart from others.
      result.name = t.suite + "/" + t.name;
    }
    result.status = parse_status(t.result).value_or(Status::kError);
    result.measurement = t.measurement;
    result.units = t.unit;
    failed = failed || result.status == Status::kFail || result.status == Status::kError;
    r.tests.push_back(std::move(result));
  }
  if (!job.finished()) {
    r.result = "error";
    r.error = job_name(submitted) + " is still " + job.state + " in LAVA";
  } else if (job.health == "Complete") {
    r.result = failed ? "fail" : "pass";
  } else {
    r.result = "error";
    // The admin's failure comment, else what LAVA's dispatcher said.
    const std::string& why = job.failure_comment.empty() ? log.job_error : job.failure_comment;
    r.error = job_name(submitted) + " ended " + job.health + (why.empty() ? "" : ": " + why);
  }
  return r;
}

std::vector<BoardRun> collect_lava_runs(const lava::Submission& submission,
                                        lava::LavaServer& server, const LavaCollectOptions& options,
                                        const std::string& night_dir) {
  std::vector<const lava::SubmittedJob*> jobs;
  std::set<std::string> boards;
  for (const auto& s : submission.jobs) {
    if (boards.insert(s.board).second) {
      jobs.push_back(&s);
    } else {
      options.progress("board " + s.board + " has several jobs in the submission: " + job_name(s) +
                       " is left out of the night");
    }
  }

  // Wait for the unfinished ones, asking only about those.
  std::vector<std::optional<lava::LavaJob>> state(jobs.size());
  std::vector<std::string> unreadable(jobs.size());
  const auto until = Clock::now() + options.wait;
  std::size_t reported = jobs.size() + 1;
  for (;;) {
    std::size_t pending = 0;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (state[i] && state[i]->finished()) continue;
      try {
        state[i] = server.job(jobs[i]->id);
        unreadable[i].clear();
      } catch (const lava::LavaError& e) {
        if (e.kind() == lava::LavaError::kAuth) throw;
        unreadable[i] = e.what();
        if (e.kind() == lava::LavaError::kNotFound) continue;
      }
      if (!state[i] || !state[i]->finished()) ++pending;
    }
    if (pending == 0 || Clock::now() >= until) break;
    if (pending != reported) {
      options.progress(std::to_string(pending) + " of " + std::to_string(jobs.size()) +
                       " LAVA jobs not finished; waiting");
      reported = pending;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(options.poll, until - Clock::now()));
  }

  std::vector<BoardRun> runs;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const lava::SubmittedJob& s = *jobs[i];
    if (!state[i]) {
      BoardRun r;
      r.board = s.board;
      r.arch = s.arch;
      r.boot = s.boot;
      r.result = "error";
      r.error = job_name(s) + ": " + unreadable[i];
      options.progress(s.board + ": error: " + r.error);
      runs.push_back(std::move(r));
      continue;
    }
    const lava::LavaJob& job = *state[i];
    std::vector<lava::LavaTestCase> tests;
    std::string log_text;
    std::string problem;
    try {
      tests = server.tests(s.id);
      log_text = server.log(s.id);
    } catch (const lava::LavaError& e) {
      if (e.kind() == lava::LavaError::kAuth) throw;
      problem = e.what();
    }
    const lava::LavaLog log = lava::parse_lava_log(log_text);
    BoardRun r = lava_board_run(s, job, tests, log);
    if (!problem.empty()) {
      r.result = "error";
      r.error = job_name(s) + ": its results could not be read: " + problem;
    }
    const fs::path dir = fs::path(night_dir) / s.board;
    fs::create_directories(dir);
    r.job_dir = s.board;
    if (!log_text.empty()) write_file_atomically((dir / "lava-log.yaml").string(), log_text);
    if (!log.console.empty()) {
      write_file_atomically((dir / "console.log").string(), log.console);
      r.console_log = s.board + "/console.log";
    }
    write_file_atomically((dir / "lava-job.json").string(), job_json(s, job).dump(2) + "\n");
    options.progress(s.board + ": " + r.result + (r.error.empty() ? "" : " (" + r.error + ")") +
                     ", " + std::to_string(r.tests.size()) + " tests, " + s.url);
    runs.push_back(std::move(r));
  }
  return runs;
}

}  // namespace crossrig::rig::matrix
