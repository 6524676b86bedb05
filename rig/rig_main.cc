// rig: the lab controller. One binary; each subcommand lives in its part's folder.

#include <cstring>
#include <iostream>
#include <string_view>

#include "rig/console/console_command.h"
#include "rig/inventory/boards_command.h"
#include "rig/jobs/run_command.h"
#include "rig/lab/lab_command.h"
#include "rig/lava/lava_command.h"
#include "rig/matrix/matrix_command.h"
#include "rig/power/power_command.h"
#include "rig/tftp/tftp_command.h"

namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"boards", "list the boards of the inventory", crossrig::rig::boards_command},
    {"check-inventory", "validate an inventory file", crossrig::rig::check_inventory_command},
    {"power", "switch, cycle or read a board's power", crossrig::rig::power_command},
    {"console", "serve, log, watch and attach to board serial consoles",
     crossrig::rig::console_command},
    {"run", "run a test job on a board: stage, power-cycle, follow the console",
     crossrig::rig::run_command},
    {"tftp", "serve a directory read-only over TFTP", crossrig::rig::tftp_command},
    {"lab", "bring the virtual lab of QEMU boards up or down, list its boards",
     crossrig::rig::lab_command},
    {"matrix", "run every board's job and write the night's reports",
     crossrig::rig::matrix_command},
    {"nightly", "rig matrix with kernels kept and old nights removed",
     crossrig::rig::nightly_command},
    {"lava", "export the boards and their jobs for a LAVA server", crossrig::rig::lava_command},
};

void usage(std::ostream& out) {
  out << "Usage: rig COMMAND [ARGS] (rig COMMAND --help for each)\n\nCommands:\n";
  for (const auto& c : kCommands) {
    out << "  " << c.name << std::string(18 - c.name.size(), ' ') << c.summary << '\n';
  }
  out << "\nExit codes: 0 ok, 1 the operation failed (board, job or transfer), 2 usage or\n"
         "inventory error, 3 unreachable or timeout (device, console), 4 authentication.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(std::cout);
    return 0;
  }
  if (name == "--version") {
    std::cout << "rig " CROSSRIG_VERSION "\n";
    return 0;
  }
  for (const auto& c : kCommands) {
    if (c.name == name) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "rig: unknown command '" << name << "'; rig --help lists them\n";
  return 2;
}
