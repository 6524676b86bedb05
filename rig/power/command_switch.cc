#include "rig/power/command_switch.h"

#include <variant>

#include "rig/inventory/board_fields.h"
#include "rig/power/shell_run.h"
#include "rig/power/state_rule.h"

namespace crossrig::rig {

namespace {

class CommandSwitch : public PowerSwitch {
 public:
  CommandSwitch(const Board& board, const PowerOptions& options)
      : board_(board), fields_(board_fields(board)), timeout_(options.timeout) {
    const auto& s = board.power.settings;
    if (auto it = s.find("on_pattern"); it != s.end()) rule_.on_pattern = it->second;
    if (auto it = s.find("off_pattern"); it != s.end()) rule_.off_pattern = it->second;
  }

  void set(bool on) override {
    const char* verb = on ? "on" : "off";
    ShellResult r = run(verb);
    if (r.exit_code != 0) {
      throw PowerError(PowerError::kFailed, "board '" + board_.name + "': the power " + verb +
                                                " command exited with " +
                                                std::to_string(r.exit_code));
    }
  }

  bool is_on() override {
    ShellResult r = run("state");
    StateReading reading = read_state(rule_, r.exit_code, r.output);
    if (!reading.on) {
      throw PowerError(PowerError::kFailed, "board '" + board_.name + "': " + reading.problem);
    }
    return *reading.on;
  }

  std::string describe() const override { return "command driver"; }

 private:
  ShellResult run(const char* verb) {
    auto expanded = expand_command(board_.power.settings.at(verb), fields_);
    if (expanded.index() == 1) {
      throw PowerError(PowerError::kUsage,
                       "board '" + board_.name + "': power." + verb + ": " + std::get<1>(expanded));
    }
    ShellResult r = run_shell(std::get<0>(expanded), timeout_);
    if (r.timed_out) {
      throw PowerError(PowerError::kUnreachable,
                       "board '" + board_.name + "': the power " + verb + " command ran past " +
                           std::to_string(timeout_.count()) +
                           " ms and was killed; check the PDU, or raise power.timeout");
    }
    return r;
  }

  Board board_;
  std::map<std::string, std::string> fields_;
  std::chrono::milliseconds timeout_;
  StateRule rule_;
};

}  // namespace

std::unique_ptr<PowerSwitch> make_command_switch(const Board& board, const PowerOptions& options) {
  return std::make_unique<CommandSwitch>(board, options);
}

}  // namespace crossrig::rig
