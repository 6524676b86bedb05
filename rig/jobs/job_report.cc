#include "rig/jobs/job_report.h"

#include "rig/inventory/vocabulary.h"

namespace crossrig::rig {

std::string_view outcome_name(JobOutcome outcome) {
  switch (outcome) {
    case JobOutcome::kRunning:
      return "running";
    case JobOutcome::kPassed:
      return "passed";
    case JobOutcome::kFailed:
      return "failed";
    case JobOutcome::kGaveUp:
      return "gave-up";
  }
  return "?";
}

std::string_view result_name(JobOutcome outcome) {
  switch (outcome) {
    case JobOutcome::kPassed:
      return "pass";
    case JobOutcome::kFailed:
    case JobOutcome::kGaveUp:
      return "fail";
    case JobOutcome::kRunning:
      break;
  }
  return "error";
}

namespace {

nlohmann::json results_json(const std::vector<TestCaseResult>& results, const char* name_key) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json j = {{name_key, r.id}, {"result", r.result}};
    if (r.measurement) j["measurement"] = *r.measurement;
    if (r.units) j["units"] = *r.units;
    out.push_back(j);
  }
  return out;
}

nlohmann::json seconds(std::optional<double> s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

nlohmann::json base_report(const Board& board, const std::string& job_dir) {
  return {{"board", board.name},
          {"arch", arch_name(board.arch)},
          {"boot", boot_method_name(board.boot)},
          {"tests", nlohmann::json::array()},
          {"results", nlohmann::json::array()},
          {"attempts", nlohmann::json::array()},
          {"times", {{"firmware", nullptr}, {"kernel", nullptr}, {"job", nullptr}}},
          {"job_dir", job_dir},
          {"console_log", job_dir + "/console.log"},
          {"results_json", job_dir + "/results.json"}};
}

void add_attempts(nlohmann::json& report, const JobMachine& job) {
  for (const auto& a : job.attempts()) {
    nlohmann::json phases = nlohmann::json::array();
    for (const auto& [phase, at] : a.phases) {
      phases.push_back({{"phase", phase_name(phase)}, {"at_s", at}});
    }
    report["attempts"].push_back({{"number", a.number},
                                  {"end", a.end},
                                  {"phases", phases},
                                  {"results", results_json(a.results, "id")},
                                  {"bad_signals", a.bad_signals}});
  }
  if (job.attempts().empty()) return;
  const Attempt& last = job.attempts().back();
  report["tests"] = results_json(last.results, "name");
  report["results"] = results_json(last.results, "id");
  AttemptTimes t = times_of(last);
  report["times"] = {
      {"firmware", seconds(t.firmware)}, {"kernel", seconds(t.kernel)}, {"job", seconds(t.job)}};
}

}  // namespace

nlohmann::json job_report(const Board& board, const JobMachine& job, const std::string& job_dir) {
  nlohmann::json report = base_report(board, job_dir);
  report["result"] = result_name(job.outcome());
  report["outcome"] = outcome_name(job.outcome());
  add_attempts(report, job);
  return report;
}

nlohmann::json error_report(const Board& board, const JobMachine* job, const std::string& job_dir,
                            const std::string& error) {
  nlohmann::json report = base_report(board, job_dir);
  report["result"] = "error";
  report["outcome"] = job ? outcome_name(job->outcome()) : "running";
  if (job) add_attempts(report, *job);
  report["error"] = error;
  return report;
}

}  // namespace crossrig::rig
