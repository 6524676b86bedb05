#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rig/inventory/board.h"
#include "rig/jobs/lava_signal.h"

namespace crossrig::rig {

/// Where an attempt is, as the console shows it.
enum class JobPhase { kPowerOn, kFirmware, kKernel, kTest, kDone };

/// The name of a phase for timings and messages: power-on, firmware, kernel, test, done.
std::string_view phase_name(JobPhase phase);

/// One power-on of the board and what the console showed until it ended.
struct Attempt {
  int number = 1;
  /// Seconds since the job started at which each phase began, in order.
  std::vector<std::pair<JobPhase, double>> phases;
  /// When the power switch confirmed the board on, if it did.
  std::optional<double> powered_on;
  /// How it ended: "completed", "timed out in kernel", "kernel panic", ...
  std::string end;
  std::vector<TestCaseResult> results;
  /// Malformed signals seen, as messages.
  std::vector<std::string> bad_signals;
};

/// How long an attempt spent in each stage, in seconds; empty when the console never showed
/// the stage's end.
struct AttemptTimes {
  std::optional<double> firmware;  ///< Power on (confirmed) to the kernel's first line.
  std::optional<double> kernel;    ///< Kernel's first line to <LAVA_SIGNAL_STARTRUN>.
  std::optional<double> job;       ///< STARTRUN to <LAVA_SIGNAL_ENDRUN>.
};

/// The stage times of an attempt, from its phases.
AttemptTimes times_of(const Attempt& attempt);

/// How the whole job ended.
enum class JobOutcome { kRunning, kPassed, kFailed, kGaveUp };

/// The pure core of `rig run`: fed console lines and timeouts (times in seconds since the job
/// started), it says when to power-cycle and power off. An attempt that panics or times out
/// is retried up to `retries` more times; the test run ends at <LAVA_SIGNAL_ENDRUN>.
class JobMachine {
 public:
  /// What the I/O shell does next.
  enum class Action { kNone, kPowerCycle, kPowerOff };

  /// retries: how many more attempts a hung or crashed board gets.
  JobMachine(BootMethod boot, int retries) : boot_(boot), retries_(retries) {}

  /// Starts the first attempt: kPowerCycle.
  Action start(double now);
  /// The power cycle the machine asked for is done: the board is on from now.
  void on_powered_on(double now);
  /// A console line (without its newline).
  Action on_line(std::string_view line, double now);
  /// The attempt's time ran out: kPowerCycle for a retry, kPowerOff when none are left.
  Action on_timeout(double now);
  /// The console went away: the attempt cannot be followed; retried as a timeout is.
  Action on_console_lost(double now);

  /// Where the current attempt is.
  JobPhase phase() const { return phase_; }
  /// How the job ended, kRunning before.
  JobOutcome outcome() const { return outcome_; }
  /// True once the outcome is known.
  bool done() const { return outcome_ != JobOutcome::kRunning; }
  /// Every attempt so far, the current one last.
  const std::vector<Attempt>& attempts() const { return attempts_; }

 private:
  void enter(JobPhase phase, double now);
  Action attempt_failed(const std::string& why, double now);
  Action finish_run(double now);

  BootMethod boot_;
  int retries_;
  JobPhase phase_ = JobPhase::kPowerOn;
  JobOutcome outcome_ = JobOutcome::kRunning;
  std::vector<Attempt> attempts_;
};

}  // namespace crossrig::rig
