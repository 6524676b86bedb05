// rig: the lab controller. One binary; each subcommand lives in its folder's command file.
#include <cstring>
#include <iostream>
#include <string_view>

#include "rig/tftp/tftp_command.h"

namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"tftp", "serve a directory read-only over TFTP", rig::tftp_command},
};

int usage(std::ostream& out) {
  out << "Usage: rig COMMAND [options]   (rig COMMAND --help for each)\n\nCommands:\n";
  for (const auto& c : kCommands)
    out << "  " << c.name << "\t" << c.summary << "\n";
  out << "\nExit codes: 0 ok, 1 operation failed, 2 usage or inventory error, 3 unreachable or "
         "timeout, 4 authentication.\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(std::cerr);
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h") return usage(std::cout) - 2;
  for (const auto& c : kCommands) {
    if (c.name == name) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "rig: unknown command '" << name << "'\n";
  return usage(std::cerr);
}
