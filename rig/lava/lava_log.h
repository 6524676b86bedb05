#pragma once
// A LAVA job's log (what /api/v0.2/jobs/ID/logs/ serves, lava-run writes): a YAML list with one
// flow mapping per line, {dt, lvl, msg}. It holds what the REST API's results do not: the
// board's console ("target" lines), the names the tests printed, and when things happened.

#include <map>
#include <optional>
#include <string>
#include <utility>

namespace crossrig::rig::lava {

struct LavaLog {
  /// The console, each "target" line followed by '\n'.
  std::string console;
  /// (suite, LAVA's case name) → the TEST_CASE_ID the board printed, for the monitors' cases.
  std::map<std::pair<std::string, std::string>, std::string> test_case_ids;
  /// Why LAVA failed the job, from its own "job" result: "Test: lava-test-monitor timed out
  /// after 10 seconds" (error type, message); empty when it passed.
  std::string job_error;
  /// As rig run times a job: from the end of the action that powered the board on to the
  /// kernel's first line ("Linux version "), from there to the run's start signal, from there
  /// to its end signal. Each is unset when the log lacks one of its two ends.
  std::optional<double> firmware_s, kernel_s, job_s;
};

/// Reads a job's log; lines it cannot read are skipped (a log cut off while being written).
LavaLog parse_lava_log(const std::string& text);

}  // namespace crossrig::rig::lava
