#include "rig/power/power_command.h"

#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "rig/inventory/board_json.h"
#include "rig/inventory/field_syntax.h"
#include "rig/inventory/inventory.h"
#include "rig/power/drivers.h"
#include "rig/power/power_sequence.h"

namespace po = boost::program_options;

namespace crossrig::rig {

namespace {

constexpr const char* kHelp = R"(Usage: rig power BOARD on|off|cycle|state [options]

Switches or reads the power of a board of the inventory through its power driver (hs100: a
TP-Link plug or strip outlet through plugctl; command: the board's own shell commands).
Every switch is confirmed by reading the state back. cycle is off, the off time, on.

Options:
  --json            print {"board","action","on","driver"} on stdout
  --inventory FILE  the inventory (default: the running lab's, $RIG_INVENTORY, ./inventory.yaml)
  --off-time S      seconds off during cycle (default: the board's off_time, else 2)
  --timeout S       bounds each exchange with the switch (default: power.timeout, else 5)

KLAP plugs: credentials come from power.username and power.password_file in the inventory, or
KASA_USERNAME and KASA_PASSWORD in the environment; never from the command line.

Exit codes: 0 done (state: read), 1 the switch failed or did not confirm, 2 usage or inventory
error, 3 switch unreachable or timed out, 4 switch refused the credentials.
)";

enum class Action { kOn, kOff, kCycle, kState };

struct ActionName {
  std::string_view name;
  Action action;
};
constexpr ActionName kActions[] = {{"on", Action::kOn},
                                   {"off", Action::kOff},
                                   {"cycle", Action::kCycle},
                                   {"state", Action::kState}};

int usage_error(const std::string& what) {
  std::cerr << "rig power: " << what << " (see rig power --help)\n";
  return PowerError::kUsage;
}

std::chrono::milliseconds seconds_option(const po::variables_map& vm, const char* name,
                                         std::chrono::milliseconds fallback) {
  if (!vm.count(name)) return fallback;
  auto duration = parse_duration(vm[name].as<std::string>());
  if (!duration) {
    throw PowerError(PowerError::kUsage,
                     std::string("--") + name + " takes seconds from 0 to 3600");
  }
  return *duration;
}

bool perform(Action action, PowerSwitch& power, const Board& board, const PowerOptions& options,
             std::chrono::milliseconds off_time) {
  switch (action) {
    case Action::kOn:
      switch_confirmed(power, true, options, board.name);
      return true;
    case Action::kOff:
      switch_confirmed(power, false, options, board.name);
      return false;
    case Action::kCycle:
      power_cycle(power, off_time, options, board.name);
      return true;
    case Action::kState:
      return power.is_on();
  }
  return false;
}

}  // namespace

int power_command(int argc, char** argv) {
  po::options_description opts;
  opts.add_options()("help,h", "")("json", "")("inventory", po::value<std::string>())(
      "off-time", po::value<std::string>())("timeout", po::value<std::string>())(
      "board", po::value<std::string>())("action", po::value<std::string>());
  po::positional_options_description pos;
  pos.add("board", 1).add("action", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
  if (vm.count("help")) {
    std::cout << kHelp;
    return 0;
  }
  if (!vm.count("board") || !vm.count("action")) return usage_error("give BOARD and an action");
  std::string action_name = vm["action"].as<std::string>();
  const ActionName* action = nullptr;
  for (const auto& a : kActions) {
    if (a.name == action_name) action = &a;
  }
  if (!action)
    return usage_error("unknown action '" + action_name + "'; use on, off, cycle or state");

  std::optional<std::string> flag;
  if (vm.count("inventory")) flag = vm["inventory"].as<std::string>();
  std::string board_name = vm["board"].as<std::string>();
  try {
    Inventory inventory = load_chosen_inventory(flag);
    const Board* board = inventory.find(board_name);
    if (!board) {
      std::cerr << "rig power: no board '" << board_name << "' in " << inventory.source
                << "; rig boards lists them\n";
      return PowerError::kUsage;
    }
    PowerOptions options = power_options_of(*board);
    options.timeout = seconds_option(vm, "timeout", options.timeout);
    if (options.timeout.count() == 0) return usage_error("--timeout must be more than 0");
    auto off_time = seconds_option(
        vm, "off-time", std::chrono::milliseconds(static_cast<long>(board->off_time_s * 1000)));
    auto power = make_power_switch(*board, options);
    bool on = perform(action->action, *power, *board, options, off_time);
    if (vm.count("json")) {
      std::cout << nlohmann::json({{"board", board->name},
                                   {"action", action->name},
                                   {"on", on},
                                   {"driver", board->power.driver}})
                       .dump()
                << '\n';
    } else {
      std::cout << board->name << ": power " << (on ? "ON" : "OFF") << '\n';
    }
    return 0;
  } catch (const InventoryError& e) {
    std::cerr << e.what() << '\n';
    return PowerError::kUsage;
  } catch (const PowerError& e) {
    std::cerr << "rig power: " << e.what() << '\n';
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "rig power: board '" << board_name << "': " << e.what() << '\n';
    return PowerError::kFailed;
  }
}

}  // namespace crossrig::rig
