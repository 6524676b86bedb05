#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "rig/inventory/board.h"
#include "rig/jobs/job_machine.h"

namespace crossrig::rig {

/// "passed", "failed" (a test failed or signalled badly) or "gave-up" (the board hung or
/// crashed on every attempt); "running" before the end.
std::string_view outcome_name(JobOutcome outcome);

/// What scripts read: "pass" (every test passed), "fail" (a test failed or the board hung or
/// crashed on every attempt) or "error" (the job could not run: console, power, staging).
std::string_view result_name(JobOutcome outcome);

/// The results JSON of a job, printed by `rig run --json` and kept as JOB_DIR/results.json:
/// board, arch, boot, result, outcome, tests (name, result, measurement, units), times of the
/// last attempt (firmware, kernel, job seconds), every attempt with its end and phase timings
/// (seconds since the job started), results (the tests as LAVA names them: id) and the
/// absolute job_dir, console_log and results_json.
nlohmann::json job_report(const Board& board, const JobMachine& job, const std::string& job_dir);

/// The same for a job that failed before or while following the board: result "error" and
/// error saying why.
nlohmann::json error_report(const Board& board, const JobMachine* job, const std::string& job_dir,
                            const std::string& error);

}  // namespace crossrig::rig
