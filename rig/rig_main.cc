// rig: the lab controller. One binary; each subcommand lives in its part's folder.

#include <cstring>
#include <iostream>
#include <string_view>

#include "rig/console/console_command.h"

namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"console", "serve, log, watch and attach to board serial consoles", rig::console_command},
};

void print_help() {
  std::cout << "Usage: rig COMMAND [ARGS]   (rig COMMAND --help for each command)\n\nCommands:\n";
  for (const Command& c : kCommands) {
    std::cout << "  " << c.name << std::string(12 - std::min<std::size_t>(c.name.size(), 11), ' ')
              << c.summary << '\n';
  }
  std::cout << "\nExit codes: 0 ok, 1 operation failed, 2 usage or inventory error,\n"
               "3 unreachable or timeout, 4 authentication\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  for (const Command& c : kCommands) {
    if (c.name == argv[1]) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "rig: unknown command '" << argv[1] << "'; run rig --help\n";
  return 2;
}
