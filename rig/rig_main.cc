// rig: the lab controller. One binary; each subcommand lives in its folder's command file.
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

void usage(std::ostream& out) {
  out << "Usage: rig COMMAND [options]   (rig COMMAND --help for each)\n\nCommands:\n";
  for (const auto& c : kCommands)
    out << "  " << c.name << "\t" << c.summary << "\n";
  out << "\nExit codes: 0 ok, 1 operation failed, 2 usage or inventory error, 3 unreachable or "
         "timeout, 4 authentication.\n";
}

}  // namespace

int main(int argc, char** argv) {
  constexpr int kUsage = 2;
  if (argc < 2) {
    usage(std::cerr);
    return kUsage;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h") {
    usage(std::cout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (c.name == name) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "rig: unknown command '" << name << "'\n";
  usage(std::cerr);
  return kUsage;
}
