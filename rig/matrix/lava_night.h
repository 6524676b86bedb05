#pragma once
// `rig matrix --from-lava`: the night's board runs are the jobs `rig lava submit` handed to a
// LAVA server, read back through its API instead of run here.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "rig/lava/lava_log.h"
#include "rig/lava/lava_server.h"
#include "rig/lava/submission.h"
#include "rig/matrix/night.h"

namespace crossrig::rig::matrix {

struct LavaCollectOptions {
  /// How long to wait for jobs still queued or running; 0 reads them as they are.
  std::chrono::seconds wait{600};
  std::chrono::seconds poll{10};
  std::function<void(const std::string&)> progress;
};

/// A board run from a LAVA job: its result (a complete job is "pass" unless a test case failed
/// or is unknown, anything else "error" with LAVA's reason), its test cases (LAVA's own suite
/// left out, each under the name the board printed where the log keeps it) and times.
BoardRun lava_board_run(const lava::SubmittedJob& submitted, const lava::LavaJob& job,
                        const std::vector<lava::LavaTestCase>& tests, const lava::LavaLog& log);

/// Waits for the submission's jobs (up to options.wait), then reads each into a board run,
/// writing night_dir/BOARD/console.log, lava-log.yaml (the job's whole log) and lava-job.json.
/// A job LAVA cannot tell about (gone, unreachable) is a board run with result "error"; a bad
/// token throws lava::LavaError(kAuth). A board's second job in the submission is left out,
/// with a progress line saying so.
std::vector<BoardRun> collect_lava_runs(const lava::Submission& submission,
                                        lava::LavaServer& server, const LavaCollectOptions& options,
                                        const std::string& night_dir);

}  // namespace crossrig::rig::matrix
