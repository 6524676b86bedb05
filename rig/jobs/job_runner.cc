#include "rig/jobs/job_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/net_io.h"
#include "rig/console/console_client.h"
#include "rig/console/console_paths.h"
#include "rig/console/text_cleaner.h"
#include "rig/jobs/board_lock.h"
#include "rig/jobs/job_report.h"
#include "rig/jobs/stage_files.h"
#include "rig/power/drivers.h"
#include "rig/power/power_sequence.h"

namespace crossrig::rig {

namespace {

namespace console = crossrig::rig::console;
using Clock = std::chrono::steady_clock;

constexpr int kFailed = 1, kUsage = 2, kUnreachable = 3;
// Longer console lines are cut: a board spewing garbage must not grow memory.
constexpr std::size_t kMaxLine = 4096;

void stage(const JobSpec& spec) {
  try {
    stage_job(spec.board, spec.files);
  } catch (const std::exception& e) {
    throw JobError(kFailed, std::string("staging failed: ") + e.what());
  }
}

crossrig::UniqueFd open_board_console(const Board& b) {
  console::ConsoleTarget target{b.name, console::mux_socket_path(b.name), std::nullopt};
  target.address = crossrig::parse_host_port(*b.console, 0);
  try {
    return console::open_console(target, console::Hello{0, true},
                                 crossrig::Deadline(std::chrono::seconds(10)))
        .fd;
  } catch (const crossrig::NetError& e) {
    throw JobError(kUnreachable, "board '" + b.name + "': console " + *b.console + ": " + e.what() +
                                     "; check the console server");
  }
}

// Follows one board's console through the job machine, doing the power actions it asks for.
class Follower {
 public:
  Follower(const JobSpec& spec, PowerSwitch& power, std::ofstream& log)
      : spec_(spec), power_(power), log_(log), job_(spec.board.boot, spec.retries) {}

  /// Runs the job to its end; job() then holds the record.
  void run() {
    console_ = open_board_console(spec_.board);
    act(job_.start(now()));
    while (!job_.done()) {
      pollfd p{console_.get(), POLLIN, 0};
      int ready = poll(&p, 1, deadline_.remaining_ms());
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) {
        note("attempt " + std::to_string(job_.attempts().back().number) + " timed out");
        act(job_.on_timeout(now()));
        continue;
      }
      char buf[8192];
      ssize_t n = read(console_.get(), buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        note("console closed");
        auto action = job_.on_console_lost(now());
        if (action == JobMachine::Action::kPowerCycle) console_ = open_board_console(spec_.board);
        act(action);
        continue;
      }
      feed(std::string_view(buf, static_cast<std::size_t>(n)));
    }
  }

  const JobMachine& job() const { return job_; }

 private:
  double now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  void note(const std::string& text) {
    if (!line_.empty()) log_ << '\n';
    log_ << "### rig: " << text << std::endl;
  }

  void act(JobMachine::Action action) {
    if (action == JobMachine::Action::kPowerCycle) {
      note("attempt " + std::to_string(job_.attempts().back().number) + ": power cycle");
      line_.clear();
      power_cycle(power_, spec_.off_time, spec_.power, spec_.board.name);
      job_.on_powered_on(now());
      deadline_ = crossrig::Deadline(spec_.attempt_timeout);
    } else if (action == JobMachine::Action::kPowerOff) {
      note(std::string("job ") + std::string(outcome_name(job_.outcome())) + ": power off");
      switch_confirmed(power_, false, spec_.power, spec_.board.name);
    }
  }

  void feed(std::string_view chunk) {
    std::string text;
    cleaner_.feed(chunk, text);
    log_ << text;
    log_.flush();
    for (char c : text) {
      if (job_.done()) return;
      if (c != '\n' && line_.size() < kMaxLine) {
        line_ += c;
        continue;
      }
      std::string line = std::move(line_);
      line_.clear();
      if (c != '\n') line_ += c;
      act(job_.on_line(line, now()));
    }
  }

  const JobSpec& spec_;
  PowerSwitch& power_;
  std::ofstream& log_;
  JobMachine job_;
  crossrig::UniqueFd console_;
  console::TextCleaner cleaner_;
  std::string line_;
  Clock::time_point start_ = Clock::now();
  crossrig::Deadline deadline_{std::chrono::milliseconds(0)};
};

}  // namespace

JobMachine run_job(const JobSpec& spec) {
  const Board& b = spec.board;
  if (!b.console) throw JobError(kUsage, "board '" + b.name + "' has no console in the inventory");
  try {
    check_tftp_dir(b);
  } catch (const std::runtime_error& e) {
    throw JobError(kUsage, e.what());
  }
  std::error_code ec;
  std::filesystem::create_directories(spec.job_dir, ec);
  if (ec)
    throw JobError(kUsage, "cannot create the job directory " + spec.job_dir + ": " + ec.message());
  // A reused job directory must not show an earlier job's results.
  std::filesystem::remove(spec.job_dir + "/results.json", ec);

  std::optional<BoardLock> lock;
  try {
    lock.emplace(b.name, "pid " + std::to_string(getpid()) + " (job " + spec.job_dir + ")",
                 spec.lock_wait);
  } catch (const std::runtime_error& e) {
    throw JobError(kFailed, e.what());
  }
  stage(spec);
  std::ofstream log(spec.job_dir + "/console.log", std::ios::app);
  auto power = make_power_switch(b, spec.power);
  Follower follower(spec, *power, log);
  try {
    follower.run();
  } catch (const std::exception& e) {
    // A board left on after a lost console would run on unobserved: off, if the switch
    // still answers. Then keep what the console showed before the failure.
    try {
      power->set(false);
    } catch (const std::exception&) {
    }
    write_file_atomically(spec.job_dir, "results.json",
                          error_report(b, &follower.job(), spec.job_dir, e.what()).dump(2) + "\n");
    throw;
  }
  write_file_atomically(spec.job_dir, "results.json",
                        job_report(b, follower.job(), spec.job_dir).dump(2) + "\n");
  return follower.job();
}

}  // namespace crossrig::rig
