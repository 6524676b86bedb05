#include "rig/jobs/job_machine.h"

#include <algorithm>
#include <array>
#include <utility>

namespace crossrig::rig {

namespace {

// What each firmware prints first, so the log's timings can say how long firmware took.
constexpr std::array<std::pair<BootMethod, std::string_view>, 5> kFirmwareBanners{{
    {BootMethod::kUboot, "U-Boot "},
    {BootMethod::kSlof, "SLOF"},
    {BootMethod::kS390Netboot, "s390-netboot"},
    {BootMethod::kS390Netboot, "Network boot"},
    {BootMethod::kIpxe, "iPXE"},
}};

constexpr std::string_view kKernelBanner = "Linux version ";
constexpr std::array<std::string_view, 2> kCrashes{"Kernel panic - not syncing",
                                                   "---[ end Kernel panic"};

}  // namespace

std::string_view phase_name(JobPhase phase) {
  switch (phase) {
    case JobPhase::kPowerOn:
      return "power-on";
    case JobPhase::kFirmware:
      return "firmware";
    case JobPhase::kKernel:
      return "kernel";
    case JobPhase::kTest:
      return "test";
    case JobPhase::kDone:
      return "done";
  }
  return "?";
}

JobMachine::Action JobMachine::start(double now) {
  attempts_.push_back({1, {}, std::nullopt, "", {}, {}});
  phase_ = JobPhase::kPowerOn;
  attempts_.back().phases.emplace_back(phase_, now);
  return Action::kPowerCycle;
}

void JobMachine::on_powered_on(double now) {
  if (!attempts_.empty()) attempts_.back().powered_on = now;
}

AttemptTimes times_of(const Attempt& attempt) {
  auto at = [&](JobPhase phase) -> std::optional<double> {
    for (const auto& [p, t] : attempt.phases) {
      if (p == phase) return t;
    }
    return std::nullopt;
  };
  auto between = [](std::optional<double> from, std::optional<double> to) {
    return from && to ? std::optional<double>(std::max(0.0, *to - *from)) : std::nullopt;
  };
  auto on = attempt.powered_on ? attempt.powered_on : at(JobPhase::kPowerOn);
  AttemptTimes times;
  times.firmware = between(on, at(JobPhase::kKernel));
  times.kernel = between(at(JobPhase::kKernel), at(JobPhase::kTest));
  if (attempt.end == "completed") times.job = between(at(JobPhase::kTest), at(JobPhase::kDone));
  return times;
}

void JobMachine::enter(JobPhase phase, double now) {
  // The console may skip a phase's banner (quiet firmware); phases only move forward.
  if (phase <= phase_) return;
  phase_ = phase;
  attempts_.back().phases.emplace_back(phase, now);
}

JobMachine::Action JobMachine::on_line(std::string_view line, double now) {
  if (done() || attempts_.empty()) return Action::kNone;
  Attempt& attempt = attempts_.back();
  for (auto crash : kCrashes) {
    if (line.find(crash) != std::string_view::npos) return attempt_failed("kernel panic", now);
  }
  if (phase_ == JobPhase::kPowerOn) {
    for (const auto& [boot, banner] : kFirmwareBanners) {
      if (boot == boot_ && line.find(banner) != std::string_view::npos) {
        enter(JobPhase::kFirmware, now);
      }
    }
  }
  if (line.find(kKernelBanner) != std::string_view::npos) enter(JobPhase::kKernel, now);
  auto signal = find_lava_signal(line);
  if (!signal) return Action::kNone;
  if (signal->name == "STARTRUN") {
    enter(JobPhase::kTest, now);
    return Action::kNone;
  }
  if (signal->name == "ENDRUN") return finish_run(now);
  if (signal->name == "TESTCASE") {
    enter(JobPhase::kTest, now);
    auto tc = test_case_of(*signal);
    if (tc.index() == 0) {
      attempt.results.push_back(std::get<0>(tc));
    } else {
      attempt.bad_signals.push_back(std::get<1>(tc));
    }
  }
  return Action::kNone;
}

JobMachine::Action JobMachine::finish_run(double now) {
  Attempt& attempt = attempts_.back();
  attempt.end = "completed";
  attempt.phases.emplace_back(JobPhase::kDone, now);
  phase_ = JobPhase::kDone;
  bool failed = !attempt.bad_signals.empty();
  for (const auto& r : attempt.results)
    failed = failed || r.result == "fail";
  outcome_ = failed ? JobOutcome::kFailed : JobOutcome::kPassed;
  return Action::kPowerOff;
}

JobMachine::Action JobMachine::attempt_failed(const std::string& why, double now) {
  Attempt& attempt = attempts_.back();
  attempt.end = why;
  attempt.phases.emplace_back(JobPhase::kDone, now);
  if (attempt.number > retries_) {
    phase_ = JobPhase::kDone;
    outcome_ = JobOutcome::kGaveUp;
    return Action::kPowerOff;
  }
  attempts_.push_back({attempt.number + 1, {}, std::nullopt, "", {}, {}});
  phase_ = JobPhase::kPowerOn;
  attempts_.back().phases.emplace_back(phase_, now);
  return Action::kPowerCycle;
}

JobMachine::Action JobMachine::on_timeout(double now) {
  if (done() || attempts_.empty()) return Action::kNone;
  return attempt_failed("timed out in " + std::string(phase_name(phase_)), now);
}

JobMachine::Action JobMachine::on_console_lost(double now) {
  if (done() || attempts_.empty()) return Action::kNone;
  return attempt_failed("console lost in " + std::string(phase_name(phase_)), now);
}

}  // namespace crossrig::rig
