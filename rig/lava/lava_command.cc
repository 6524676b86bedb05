#include "rig/lava/lava_command.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text_lists.h"
#include "common/utc_time.h"
#include "rig/inventory/board_json.h"
#include "rig/inventory/inventory.h"
#include "rig/jobs/stage_files.h"
#include "rig/lava/lava_export.h"
#include "rig/lava/lava_server.h"
#include "rig/lava/submission.h"

namespace po = boost::program_options;

namespace crossrig::rig {

namespace {

namespace fs = std::filesystem;

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

constexpr const char* kHelp = R"(Usage: rig lava export --out DIR [--inventory FILE] [--boards A,B]
                       [--files-url URL] [--qemu] [--json]
       rig lava submit --server URL --token-file FILE [--export DIR] [--boards A,B] [--json]

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

A lava-server takes the device types and devices as described in rig/lava/README.md (each
device tagged with its board's name: jobs are pinned to their board by that tag).

`submit` submits the export's jobs (DIR/jobs/*.yaml) to a LAVA server through its REST API
and records what it submitted in DIR/submitted.json (board, job file, job id, the job's page),
replacing an earlier record; `rig matrix --from-lava DIR` collects their results into the
night's reports. One line per job on stdout: BOARD JOB-ID URL.

  --server URL      the server: its web address (https://lava.example.org/), as lavacli's
                    or the API's URL also does
  --token-file F    a file whose first line is an API token of the submitting user (the
                    server's API Tokens page, or `lava-server manage tokens add --user NAME`)
  --export DIR      the export's directory (default: the current directory)
  --boards A,B      only these boards' jobs (default: all of DIR/jobs)
  --json            print the record as JSON instead

Exit codes: 0 written (export) or every job submitted (submit), 1 a file could not be written,
or a job was refused (its reason is printed; the others are still submitted and recorded),
or the server could not be reached or refused the token; 2 usage or inventory error (every
board problem is printed: a board LAVA cannot drive, e.g. without a console, or a file
--files-url does not serve).
)";

int usage_error(const std::string& what) {
  std::cerr << "rig lava: " << what << " (see rig lava --help)\n";
  return kUsage;
}

// Parses a command's options into vm; the exit code when that is all there is to do (--help,
// or a usage error), else nullopt.
std::optional<int> parse_options(int argc, char** argv, const po::options_description& opts,
                                 po::variables_map& vm) {
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
  return std::nullopt;
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
  if (auto done = parse_options(argc, argv, opts, vm)) return *done;
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

int submit_command(int argc, char** argv) {
  po::options_description opts;
  opts.add_options()("help,h", "")("json", "")("server", po::value<std::string>())(
      "token-file", po::value<std::string>())("export", po::value<std::string>())(
      "boards", po::value<std::string>());
  po::variables_map vm;
  if (auto done = parse_options(argc, argv, opts, vm)) return *done;
  if (!vm.count("server")) return usage_error("give the LAVA server's URL with --server URL");
  if (!vm.count("token-file")) {
    return usage_error("give a file holding the API token with --token-file FILE");
  }
  const std::string dir = fs::absolute(vm.count("export") ? vm["export"].as<std::string>() : ".")
                              .lexically_normal()
                              .string();
  std::vector<lava::JobFile> files;
  std::optional<lava::LavaServer> server;
  try {
    server.emplace(vm["server"].as<std::string>(),
                   lava::read_token_file(vm["token-file"].as<std::string>()));
    files = lava::read_job_files(dir);
  } catch (const std::exception& e) {
    return usage_error(e.what());
  }
  if (vm.count("boards")) {
    const std::string problem =
        lava::keep_boards(files, split_commas(vm["boards"].as<std::string>()), dir + "/jobs");
    if (!problem.empty()) return usage_error(problem);
  }
  if (files.empty()) {
    return usage_error(dir + "/jobs has no jobs: run rig lava export --out " + dir + " first");
  }

  lava::Submission record{server->base_url(), utc_now(), {}};
  nlohmann::json refused = nlohmann::json::array();
  int status = kOk;
  for (const auto& f : files) {
    try {
      for (long id : server->submit(f.text)) {
        record.jobs.push_back({f.board, f.arch, f.boot, f.job, f.path, id, server->job_url(id)});
        if (!vm.count("json"))
          std::cout << f.board << ' ' << id << ' ' << server->job_url(id) << '\n';
      }
    } catch (const lava::LavaError& e) {
      status = kFailed;
      std::cerr << "rig lava submit: " << f.path << ": " << e.what() << '\n';
      refused.push_back({{"file", f.path}, {"board", f.board}, {"error", e.what()}});
      // Every other job would meet the same fate: a wrong URL or token, a server down.
      if (e.kind() == lava::LavaError::kUnreachable || e.kind() == lava::LavaError::kAuth) break;
    }
  }
  if (!record.jobs.empty()) {
    try {
      write_file_atomically(dir, "submitted.json", lava::to_json(record).dump(2) + "\n");
    } catch (const std::exception& e) {
      std::cerr << "rig lava submit: " << e.what() << "; the jobs above were submitted but are "
                << "not recorded: check that " << dir << " is writable\n";
      return kFailed;
    }
  }
  if (vm.count("json")) {
    nlohmann::json out = lava::to_json(record);
    out["record"] = lava::submission_path(dir);
    out["refused"] = refused;
    std::cout << out.dump(2) << '\n';
  }
  return status;
}

}  // namespace

int lava_command(int argc, char** argv) {
  std::string_view verb = argc > 1 ? argv[1] : "";
  if (verb == "--help" || verb == "-h" || verb == "help") {
    std::cout << kHelp;
    return kOk;
  }
  if (verb.empty()) return usage_error("give a command: export or submit");
  if (verb == "export") return export_command(argc - 1, argv + 1);
  if (verb == "submit") return submit_command(argc - 1, argv + 1);
  return usage_error("unknown lava command '" + std::string(verb) + "'");
}

}  // namespace crossrig::rig
