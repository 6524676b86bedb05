#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "rig/inventory/board.h"
#include "rig/jobs/job_machine.h"
#include "rig/jobs/stage_files.h"
#include "rig/power/power_switch.h"

namespace crossrig::rig {

/// What `rig run` was asked to do.
struct JobSpec {
  Board board;
  JobFiles files;
  /// Bounds each attempt, from power-on to <LAVA_SIGNAL_ENDRUN>.
  std::chrono::milliseconds attempt_timeout{std::chrono::minutes(10)};
  int retries = 0;
  /// Absolute; holds console.log and results.json.
  std::string job_dir;
  /// How long to wait for a board another job holds.
  std::chrono::milliseconds lock_wait{0};
  std::chrono::milliseconds off_time{2000};
  PowerOptions power;
};

/// A job failed before its board could be followed (lock, staging, console, power); exit_code
/// is rig's exit code for it.
class JobError : public std::runtime_error {
 public:
  /// exit_code: rig's exit code for the failure.
  JobError(int exit_code, const std::string& what)
      : std::runtime_error(what), exit_code_(exit_code) {}
  /// rig's exit code for the failure.
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

/// Locks the board, stages the kernel and ramdisk into its tftp_dir, power-cycles it and
/// follows its console through the job machine, retrying hung boards, then powers it off.
/// Writes JOB_DIR/console.log and JOB_DIR/results.json. Throws JobError or PowerError.
JobMachine run_job(const JobSpec& spec);

}  // namespace crossrig::rig
