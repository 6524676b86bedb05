#include "rig/lava/lava_command.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/text_lists.h"
#include "rig/inventory/board_json.h"
#include "rig/inventory/inventory.h"
#include "rig/jobs/stage_files.h"
#include "rig/lava/lava_export.h"

namespace po = boost::program_options;

namespace crossrig::rig {

namespace {

namespace fs = std::filesystem;

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

constexpr const char* kHelp = R"(Usage: rig lava export --out DIR [--inventory FILE] [--boards A,B]
                       [--files-url URL] [--qemu] [--json]

Hands the lab's boards and jobs to LAVA (a lab bigger than one host schedules with LAVA rather
than with rig). `export` writes, for the inventory's boards:

  DIR/device-types/crossrig-BOOT.jinja2  a LAVA device type per boot method in use, extending
                                       LAVA's base templates (uboot, ipxe; slof and
                                       s390-netboot boards are power-cycled and watched)
  DIR/devices/BOARD.jinja2             the board's device dictionary: console (telnet HOST
                                       PORT), power on/off/reset (plugctl, or the board's own
                                       power commands)
  DIR/jobs/BOARD-default.yaml          a LAVA job of the board's default job (its inventory
                                       job: mapping): deploy, boot, and a monitors test action
                                       reading the ramdisk's LAVA_SIGNAL result lines

  --out DIR         where to write (created; files are replaced whole)
  --inventory FILE  the lab's boards (default as rig boards: the running virtual lab's,
                    $RIG_INVENTORY, ./inventory.yaml)
  --boards A,B      only these boards (default: all)
  --files-url URL   where the lab serves the inventory file's directory over HTTP; jobs fetch
                    kernel, ramdisk and dtb from URL/PATH (PATH relative to that directory).
                    Default: file:// URLs, for a LAVA worker on this host
  --qemu            hand the boards to LAVA's own qemu device type instead: each job runs
                    its kernel and ramdisk in QEMU on the worker, as the virtual lab emulates
                    a board of the board's arch (machine, CPU, memory; TCG), with the job's
                    command line or the lab's default. No device types are written; each
                    device extends LAVA's qemu.jinja2 and the jobs run on any qemu device
  --json            print what was written as JSON

A lava-server takes the files as described in rig/lava/README.md: device types and devices
into /etc/lava-server/dispatcher-config/, each device added with its board name as a tag
(jobs are pinned to their board by that tag), then `lavacli jobs submit` for each job.

Exit codes: 0 written, 1 a file could not be written, 2 usage or inventory error (every board
problem is printed: a board LAVA cannot drive, e.g. without a console, or a file --files-url
does not serve).
)";

int usage_error(const std::string& what) {
  std::cerr << "rig lava: " << what << " (see rig lava --help)\n";
  return kUsage;
}

nlohmann::json export_json(const std::string& out, const lava::ExportPlan& plan) {
  nlohmann::json j{{"out", out},
                   {"device_types", nlohmann::json::array()},
                   {"devices", nlohmann::json::array()},
                   {"jobs", nlohmann::json::array()}};
  for (const auto& f : plan.files) {
    std::string path = (fs::path(out) / f.path).string();
    if (f.kind == "device-type") {
      j["device_types"].push_back({{"name", f.name}, {"path", path}});
    } else if (f.kind == "device") {
      j["devices"].push_back({{"board", f.name}, {"device_type", f.device_type}, {"path", path}});
    } else {
      j["jobs"].push_back({{"board", f.name},
                           {"job", std::string(lava::kDefaultJobName)},
                           {"device_type", f.device_type},
                           {"path", path}});
    }
  }
  return j;
}

int export_command(int argc, char** argv) {
  po::options_description opts;
  opts.add_options()("help,h", "")("json", "")("out", po::value<std::string>())(
      "inventory", po::value<std::string>())("boards", po::value<std::string>())(
      "files-url", po::value<std::string>())("qemu", "");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
  if (vm.count("help")) {
    std::cout << kHelp;
    return kOk;
  }
  if (!vm.count("out")) return usage_error("give the directory to write with --out DIR");
  std::string out = fs::absolute(vm["out"].as<std::string>()).lexically_normal().string();

  std::optional<std::string> flag;
  if (vm.count("inventory")) flag = vm["inventory"].as<std::string>();
  Inventory inventory;
  try {
    inventory = load_chosen_inventory(flag);
  } catch (const InventoryError& e) {
    std::cerr << e.what() << '\n';
    return kUsage;
  }
  lava::FileSource source;
  if (vm.count("files-url")) {
    source.files_url = vm["files-url"].as<std::string>();
    if (source.files_url->find("://") == std::string::npos) {
      return usage_error("--files-url wants a URL such as http://HOST/PATH, not '" +
                         *source.files_url + "'");
    }
  }
  source.inventory_dir = fs::absolute(inventory.source).parent_path().lexically_normal().string();
  std::vector<std::string> boards;
  if (vm.count("boards")) boards = split_commas(vm["boards"].as<std::string>());

  lava::ExportPlan plan =
      lava::plan_export(inventory, boards, source,
                        vm.count("qemu") ? lava::ExportTarget::kQemu : lava::ExportTarget::kBoards);
  if (!plan.problems.empty()) {
    for (const auto& p : plan.problems)
      std::cerr << p << '\n';
    return kUsage;
  }
  for (const auto& f : plan.files) {
    fs::path path = fs::path(out) / f.path;
    try {
      write_file_atomically(path.parent_path().string(), path.filename().string(), f.text);
    } catch (const std::exception& e) {
      std::cerr << "rig lava export: " << e.what() << "; check that " << out
                << " is a writable directory\n";
      return kFailed;
    }
  }
  if (vm.count("json")) {
    std::cout << export_json(out, plan).dump(2) << '\n';
  } else {
    for (const auto& f : plan.files)
      std::cout << (fs::path(out) / f.path).string() << '\n';
  }
  return kOk;
}

}  // namespace

int lava_command(int argc, char** argv) {
  std::string_view verb = argc > 1 ? argv[1] : "";
  if (verb == "--help" || verb == "-h" || verb == "help") {
    std::cout << kHelp;
    return kOk;
  }
  if (verb.empty()) return usage_error("give a command: export");
  if (verb == "export") return export_command(argc - 1, argv + 1);
  return usage_error("unknown lava command '" + std::string(verb) + "'");
}

}  // namespace crossrig::rig
