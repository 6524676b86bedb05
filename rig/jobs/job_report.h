#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "rig/jobs/job_machine.h"

namespace crossrig::rig {

/// "passed", "failed" (a test failed or signalled badly) or "gave-up" (the board hung or
/// crashed on every attempt); "running" before the end.
std::string_view outcome_name(JobOutcome outcome);

/// The results JSON of a job: outcome, every attempt with its end and phase timings (seconds
/// since the job started), and the last attempt's test cases as "results".
nlohmann::json job_report(const std::string& board, const JobMachine& job);

}  // namespace crossrig::rig
