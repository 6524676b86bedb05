#include "rig/jobs/job_report.h"

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

namespace {

nlohmann::json results_json(const std::vector<TestCaseResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json j = {{"id", r.id}, {"result", r.result}};
    if (r.measurement) j["measurement"] = *r.measurement;
    if (r.units) j["units"] = *r.units;
    out.push_back(j);
  }
  return out;
}

}  // namespace

nlohmann::json job_report(const std::string& board, const JobMachine& job) {
  nlohmann::json attempts = nlohmann::json::array();
  for (const auto& a : job.attempts()) {
    nlohmann::json phases = nlohmann::json::array();
    for (const auto& [phase, at] : a.phases) {
      phases.push_back({{"phase", phase_name(phase)}, {"at_s", at}});
    }
    attempts.push_back({{"number", a.number},
                        {"end", a.end},
                        {"phases", phases},
                        {"results", results_json(a.results)},
                        {"bad_signals", a.bad_signals}});
  }
  nlohmann::json last = job.attempts().empty() ? nlohmann::json::array()
                                               : results_json(job.attempts().back().results);
  return {{"board", board},
          {"outcome", outcome_name(job.outcome())},
          {"attempts", attempts},
          {"results", last}};
}

}  // namespace crossrig::rig
