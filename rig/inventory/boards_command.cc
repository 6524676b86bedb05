#include "rig/inventory/boards_command.h"

#include <boost/program_options.hpp>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "rig/inventory/board_json.h"
#include "rig/inventory/inventory.h"
#include "rig/inventory/vocabulary.h"

namespace po = boost::program_options;

namespace crossrig::rig {

namespace {

constexpr int kUsage = 2;

constexpr const char* kBoardsHelp = R"(Usage: rig boards [--inventory FILE] [--json]

Lists the boards of the inventory: name, arch, boot method, power, console.

Without --inventory, rig reads the running virtual lab's inventory (the path written in
$XDG_RUNTIME_DIR/rig/lab-inventory, or /run/rig/lab-inventory without XDG_RUNTIME_DIR), then
$RIG_INVENTORY, then ./inventory.yaml.

Exit codes: 0 listed, 2 usage or inventory error (every problem is printed with its line).
)";

constexpr const char* kCheckHelp = R"(Usage: rig check-inventory FILE [--json]

Validates an inventory file and prints every problem as FILE:LINE: board 'NAME': FIELD: what
to fix. The format is described in rig/inventory/README.md.

Exit codes: 0 valid, 2 usage error or invalid inventory.
)";

struct Parsed {
  po::variables_map vm;
  bool ok = true;
};

Parsed parse(int argc, char** argv, po::options_description& opts,
             const po::positional_options_description& pos, const char* command) {
  Parsed p;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), p.vm);
    po::notify(p.vm);
  } catch (const po::error& e) {
    std::cerr << "rig " << command << ": " << e.what() << " (see rig " << command << " --help)\n";
    p.ok = false;
  }
  return p;
}

std::string table(const Inventory& inventory) {
  std::vector<std::vector<std::string>> rows{{"NAME", "ARCH", "BOOT", "POWER", "CONSOLE"}};
  for (const auto& b : inventory.boards) {
    rows.push_back({b.name, std::string(arch_name(b.arch)), std::string(boot_method_name(b.boot)),
                    power_summary(b), b.console.value_or("-")});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << '\n';
  }
  return out.str();
}

nlohmann::json inventory_json(const Inventory& inventory) {
  nlohmann::json boards = nlohmann::json::array();
  for (const auto& b : inventory.boards)
    boards.push_back(board_json(b));
  return {{"inventory", inventory.source}, {"boards", boards}};
}

}  // namespace

int boards_command(int argc, char** argv) {
  po::options_description opts;
  opts.add_options()("help,h", "")("json", "")("inventory", po::value<std::string>());
  Parsed p = parse(argc, argv, opts, {}, "boards");
  if (!p.ok) return kUsage;
  if (p.vm.count("help")) {
    std::cout << kBoardsHelp;
    return 0;
  }
  std::optional<std::string> flag;
  if (p.vm.count("inventory")) flag = p.vm["inventory"].as<std::string>();
  try {
    Inventory inventory = load_chosen_inventory(flag);
    if (p.vm.count("json")) {
      std::cout << inventory_json(inventory).dump(2) << '\n';
    } else {
      std::cout << table(inventory);
    }
  } catch (const InventoryError& e) {
    std::cerr << e.what() << '\n';
    return kUsage;
  }
  return 0;
}

int check_inventory_command(int argc, char** argv) {
  po::options_description opts;
  opts.add_options()("help,h", "")("json", "")("file", po::value<std::string>());
  po::positional_options_description pos;
  pos.add("file", 1);
  Parsed p = parse(argc, argv, opts, pos, "check-inventory");
  if (!p.ok) return kUsage;
  if (p.vm.count("help")) {
    std::cout << kCheckHelp;
    return 0;
  }
  if (!p.vm.count("file")) {
    std::cerr << "rig check-inventory: give the inventory FILE to check\n";
    return kUsage;
  }
  std::string file = p.vm["file"].as<std::string>();
  bool json = p.vm.count("json") > 0;
  try {
    Inventory inventory = load_inventory(file);
    if (json) {
      std::cout << nlohmann::json({{"valid", true},
                                   {"boards", inventory.boards.size()},
                                   {"problems", nlohmann::json::array()}})
                       .dump(2)
                << '\n';
    } else {
      std::cout << file << ": " << inventory.boards.size() << " boards, valid\n";
    }
  } catch (const InventoryError& e) {
    if (json) {
      std::cout << nlohmann::json({{"valid", false}, {"problems", e.problems()}}).dump(2) << '\n';
    }
    std::cerr << e.what() << '\n';
    return kUsage;
  }
  return 0;
}

}  // namespace crossrig::rig
