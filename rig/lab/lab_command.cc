#include "rig/lab/lab_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/net_io.h"
#include "rig/inventory/inventory_path.h"
#include "rig/inventory/vocabulary.h"
#include "rig/lab/control_client.h"
#include "rig/lab/manifest.h"
#include "rig/lab/process.h"
#include "rig/lab/supervisor.h"
#include "rig/power/drivers.h"

namespace crossrig::rig {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using lab::LabPlan;

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

constexpr const char* kHelp = R"(Usage: rig lab up [--boards LIST] [--json]
       rig lab down
       rig lab status [--json]

The virtual lab: QEMU boards (TCG) that netboot through their own firmware from rig's TFTP
server, each behind an emulated HS100 plug (plugsim) and with its serial console on a loopback
TCP port, so `rig power`, `rig console` and `rig run` drive them as real boards.

  up       brings the lab up and leaves one supervisor process that owns every lab process.
           --boards: comma-separated arches or board names (x86_64, aarch64, ppc64, ppc64le,
           s390x, or qemu-ARCH); default all five. Each arch needs its boot files from
           `toolchains/lab-images ARCH` (the lab never builds them). Boards start powered off.
  down     powers every board off, stops every lab process, removes the network namespace.
  status   lists the boards: name, arch, boot, power (read from the plug), running (QEMU),
           mac, ip, console, plug, tftp_dir, and the kernel and ramdisk of the default job.
           --json prints them as a JSON list.

While a lab is up, rig reads its inventory first (the path is in
$XDG_RUNTIME_DIR/rig/lab-inventory, else /run/rig/lab-inventory). Run a job with e.g.
  rig run --board qemu-x86_64 --kernel K --ramdisk R
State, logs and the inventory are in $XDG_RUNTIME_DIR/rig/lab (else /run/rig/lab).

Exit codes: 0 done, 1 the lab failed to come up, is already up, or is not up (status),
2 usage error.
)";

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

std::string state_dir() {
  if (auto xdg = env("XDG_RUNTIME_DIR")) return *xdg + "/rig/lab";
  return "/run/rig/lab";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int supervisor_pid(const std::string& state) {
  std::string text = read_text(state + "/supervisor.pid");
  int pid = std::atoi(text.c_str());
  return lab::process_alive(pid) ? pid : 0;
}

// Stable per state directory, so a later `down` finds a namespace a crashed lab left.
std::string netns_name(const std::string& state) {
  return "riglab-" + std::to_string(std::hash<std::string>{}(state) % 1000000);
}

std::string rig_executable() {
  std::error_code ec;
  auto path = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "rig" : path.string();
}

std::string plugsim_executable(const std::string& rig_exe) {
  auto beside = fs::path(rig_exe).parent_path() / "plugsim";
  return fs::exists(beside) ? beside.string() : "plugsim";
}

std::vector<Arch> parse_boards(const std::string& list) {
  std::vector<Arch> arches;
  std::stringstream items(list);
  for (std::string item; std::getline(items, item, ',');) {
    std::string name = item.rfind("qemu-", 0) == 0 ? item.substr(5) : item;
    auto arch = parse_arch(name);
    if (!arch) {
      throw std::invalid_argument("--boards: no board '" + item + "' (arches: " + arch_names() +
                                  ")");
    }
    arches.push_back(*arch);
  }
  if (arches.empty()) throw std::invalid_argument("--boards: give at least one board");
  return arches;
}

// Removes what a lab whose supervisor died left behind: its namespace and the pointer to its
// inventory.
void clean_leftovers(const std::string& state, const std::string& pointer) {
  auto j = nlohmann::json::parse(read_text(state + "/lab.json"), nullptr, false);
  std::string netns =
      j.is_object() && j.contains("netns") ? j["netns"].get<std::string>() : netns_name(state);
  if (fs::exists("/run/netns/" + netns)) {
    try {
      lab::run_to_end({"ip", "netns", "del", netns});
    } catch (const std::exception& e) {
      std::cerr << "rig lab: " << e.what() << '\n';
    }
  }
  if (read_text(pointer).find(state) != std::string::npos) fs::remove(pointer);
}

nlohmann::json board_status(const nlohmann::json& board, const nlohmann::json& running) {
  nlohmann::json out = board;
  Board b;
  b.name = board["name"].get<std::string>();
  b.power = {"hs100", {{"address", board["plug"].get<std::string>()}, {"transport", "xor"}}};
  PowerOptions options;
  options.timeout = 2000ms;
  try {
    out["power"] = make_power_switch(b, options)->is_on() ? "on" : "off";
  } catch (const std::exception&) {
    out["power"] = "unknown";
  }
  out["running"] =
      running.is_object() && running.contains(b.name) && running[b.name].value("running", false);
  return out;
}

int status(bool json) {
  std::string state = state_dir();
  auto lab_file = nlohmann::json::parse(read_text(state + "/lab.json"), nullptr, false);
  if (!supervisor_pid(state) || !lab_file.is_object()) {
    std::cerr << "rig lab: no lab is up in " << state << "; start one with rig lab up\n";
    return kFailed;
  }
  nlohmann::json running;
  try {
    std::string reply = lab::ask_supervisor(state + "/control.sock", "status", 5s);
    if (reply.rfind("ok ", 0) == 0) running = nlohmann::json::parse(reply.substr(3))["boards"];
  } catch (const std::exception& e) {
    std::cerr << "rig lab: " << e.what() << '\n';
  }
  nlohmann::json boards = nlohmann::json::array();
  for (const auto& b : lab_file["boards"])
    boards.push_back(board_status(b, running));
  if (json) {
    std::cout << boards.dump(2) << '\n';
    return kOk;
  }
  std::cout << "lab in " << state << " (supervisor pid " << lab_file["supervisor_pid"]
            << ", namespace " << lab_file["netns"].get<std::string>() << ", inventory "
            << lab_file["inventory"].get<std::string>() << ")\n";
  for (const auto& b : boards) {
    std::cout << "  " << b["name"].get<std::string>() << ": " << b["arch"].get<std::string>()
              << ", " << b["boot"].get<std::string>() << ", power " << b["power"].get<std::string>()
              << (b["running"].get<bool>() ? " (running)" : "") << ", console "
              << b["console"].get<std::string>() << ", ip " << b["ip"].get<std::string>() << '\n';
  }
  return kOk;
}

int up(const std::vector<Arch>& arches, bool json) {
  std::string state = state_dir();
  std::string pointer = lab_state_file(process_inventory_lookup(std::nullopt));
  if (int pid = supervisor_pid(state)) {
    std::cerr << "rig lab: a lab is already up in " << state << " (supervisor pid " << pid
              << "); see rig lab status, or rig lab down first\n";
    return kFailed;
  }
  clean_leftovers(state, pointer);
  LabPlan plan = lab::plan_lab(state, netns_name(state), arches);
  std::string cache = lab::cache_root(env("XDG_CACHE_HOME"), env("HOME"));
  try {
    for (auto& b : plan.boards) {
      auto manifest = lab::load_manifest(cache, b.type->arch);
      b.kernel_file = manifest.kernel;
      b.ramdisk_file = manifest.ramdisk;
    }
    fs::remove_all(state);
    fs::create_directories(state);
    fs::create_directories(fs::path(pointer).parent_path());
  } catch (const std::exception& e) {
    std::cerr << "rig lab: " << e.what() << '\n';
    return kFailed;
  }
  std::string rig_exe = rig_executable();
  lab::SupervisorConfig config{plan, rig_exe, plugsim_executable(rig_exe), pointer};
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    std::perror("rig lab: pipe");
    return kFailed;
  }
  std::cout.flush();
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("rig lab: fork");
    return kFailed;
  }
  if (pid == 0) {
    close(ready[0]);
    setsid();
    // Every lab process is reparented here if its parent dies, and reaped here: this
    // machine's PID 1 reaps nothing.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (chdir("/") != 0) _exit(kFailed);
    int log = open((state + "/supervisor.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    close(log);
    close(null);
    // Nothing the starting command inherited (a test runner's pipes) may stay open for the
    // lab's lifetime, or whoever waits for its end would wait for the lab's.
    close_range(3, static_cast<unsigned>(ready[1]) - 1, 0);
    close_range(static_cast<unsigned>(ready[1]) + 1, ~0u, 0);
    int rc = lab::run_supervisor(config, ready[1]);
    std::cerr.flush();
    _exit(rc);
  }
  close(ready[1]);
  std::string answer;
  char buf[4096];
  for (;;) {
    ssize_t n = read(ready[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  close(ready[0]);
  if (answer.rfind("ok", 0) != 0) {
    std::string why = answer.empty() ? "the supervisor died while starting" : answer;
    while (!why.empty() && why.back() == '\n')
      why.pop_back();
    std::cerr << "rig lab: the lab did not come up: " << why << "\n(supervisor log: " << state
              << "/supervisor.log)\n";
    return kFailed;
  }
  return status(json);
}

int down() {
  std::string state = state_dir();
  std::string pointer = lab_state_file(process_inventory_lookup(std::nullopt));
  int pid = supervisor_pid(state);
  if (!pid) {
    clean_leftovers(state, pointer);
    std::cout << "no lab is up in " << state << '\n';
    return kOk;
  }
  try {
    lab::ask_supervisor(state + "/control.sock", "down", 10s);
  } catch (const std::exception& e) {
    std::cerr << "rig lab: " << e.what() << "; sending SIGTERM to pid " << pid << '\n';
    kill(pid, SIGTERM);
  }
  crossrig::Deadline deadline(90s);
  while (lab::process_alive(pid) && !deadline.expired())
    std::this_thread::sleep_for(50ms);
  if (lab::process_alive(pid)) {
    std::cerr << "rig lab: the supervisor (pid " << pid << ") is still stopping the lab; see "
              << state << "/supervisor.log\n";
    return kFailed;
  }
  clean_leftovers(state, pointer);
  std::cout << "lab down\n";
  return kOk;
}

int relay(const std::string& state, const std::string& board) {
  try {
    std::string reply = lab::ask_supervisor(state + "/control.sock", "sync " + board, 60s);
    if (reply.rfind("ok", 0) == 0) return kOk;
    std::cerr << "rig lab relay: " << reply << '\n';
  } catch (const std::exception& e) {
    std::cerr << "rig lab relay: " << e.what() << '\n';
  }
  return kFailed;
}

int usage_error(const std::string& what) {
  std::cerr << "rig lab: " << what << " (see rig lab --help)\n";
  return kUsage;
}

}  // namespace

int lab_command(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("give up, down or status");
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return kOk;
    }
  }
  std::string verb = args[0];
  bool json = false;
  std::optional<std::string> boards, relay_state;
  std::vector<std::string> rest;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--json") {
      json = true;
    } else if ((args[i] == "--boards" || args[i] == "--state-dir") && i + 1 < args.size()) {
      (args[i] == "--boards" ? boards : relay_state) = args[i + 1];
      ++i;
    } else if (args[i].rfind("--boards=", 0) == 0) {
      boards = args[i].substr(9);
    } else if (args[i].rfind("--", 0) == 0) {
      return usage_error("unknown option " + args[i]);
    } else {
      rest.push_back(args[i]);
    }
  }
  if (verb == "relay") {
    // plugsim's --on-change hook: not for people, hence not in --help.
    if (!relay_state || rest.size() != 1) return usage_error("relay takes --state-dir DIR BOARD");
    return relay(*relay_state, rest[0]);
  }
  if (!rest.empty()) return usage_error("unexpected argument " + rest[0]);
  if (verb == "up") {
    std::vector<Arch> arches;
    try {
      arches = parse_boards(boards.value_or("x86_64,aarch64,ppc64,ppc64le,s390x"));
    } catch (const std::invalid_argument& e) {
      return usage_error(e.what());
    }
    return up(arches, json);
  }
  if (boards) return usage_error("--boards is an option of up");
  if (verb == "down") return down();
  if (verb == "status") return status(json);
  return usage_error("unknown lab command '" + verb + "'");
}

}  // namespace crossrig::rig
