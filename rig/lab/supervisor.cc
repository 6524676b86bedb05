#include "rig/lab/supervisor.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/net_io.h"
#include "common/unique_fd.h"
#include "rig/boot/board_boot.h"
#include "rig/boot/uboot_image.h"
#include "rig/console/console_paths.h"
#include "rig/inventory/board_fields.h"
#include "rig/inventory/vocabulary.h"
#include "rig/jobs/stage_files.h"
#include "rig/lab/process.h"
#include "rig/lab/qmp.h"
#include "rig/power/drivers.h"

namespace crossrig::rig::lab {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string sys_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

void log(const std::string& text) {
  std::cerr << "rig lab: " << text << std::endl;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string status_text(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Switches this thread into a network namespace and back when it goes out of scope.
class NetnsVisit {
 public:
  NetnsVisit(int into, int back) : back_(back) {
    if (setns(into, CLONE_NEWNET) != 0) throw std::runtime_error(sys_error("setns into the lab"));
  }
  ~NetnsVisit() {
    if (setns(back_, CLONE_NEWNET) != 0) {
      // Staying in the lab's namespace would put later sockets there: nothing sane remains.
      std::perror("rig lab: setns back to the host namespace");
      std::abort();
    }
  }
  NetnsVisit(const NetnsVisit&) = delete;
  NetnsVisit& operator=(const NetnsVisit&) = delete;

 private:
  int back_;
};

crossrig::UniqueFd listen_loopback(int& port) {
  crossrig::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(sys_error("socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd.get(), 8) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error(sys_error("cannot listen on 127.0.0.1"));
  }
  port = ntohs(addr.sin_port);
  return fd;
}

crossrig::UniqueFd listen_unix(const std::string& path) {
  crossrig::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr = console::unix_socket_address(path);
  unlink(path.c_str());
  if (!fd || bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(fd.get(), 16) != 0) {
    throw std::runtime_error(sys_error("cannot listen on " + path));
  }
  return fd;
}

class Supervisor {
 public:
  explicit Supervisor(const SupervisorConfig& config) : config_(config), plan_(config_.plan) {}

  void setup();
  void serve();
  void teardown();

 private:
  struct Child {
    std::string what;
    std::string board;  // set for a board's QEMU
  };

  void make_network();
  void make_files();
  void start_services();
  void publish();
  pid_t start_service(const std::string& what, const std::vector<std::string>& argv,
                      const std::string& log_file);
  void wait_for(const std::string& what, pid_t pid, const std::string& log_file,
                const std::function<bool()>& ready);
  void reap();
  bool running(const std::string& board) const { return qemu_.count(board) != 0; }
  void power_on(const LabBoard& board);
  void power_off(const LabBoard& board);
  std::unique_ptr<PowerSwitch> plug_switch(const LabBoard& board);
  bool plug_is_on(const LabBoard& board);
  crossrig::UniqueFd open_tap(const std::string& name);
  void handle_control();
  std::string answer(const std::string& request, bool& down);
  nlohmann::json status_json() const;

  SupervisorConfig config_;
  LabPlan& plan_;
  crossrig::UniqueFd signals_, control_, host_ns_, lab_ns_;
  std::map<std::string, crossrig::UniqueFd> console_listeners_;
  std::map<pid_t, Child> children_;
  std::map<std::string, pid_t> qemu_;
  bool netns_made_ = false, stopping_ = false;
};

void Supervisor::setup() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP})
    sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  (void)signal(SIGPIPE, SIG_IGN);
  signals_.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  write_file_atomically(plan_.state_dir, "supervisor.pid", std::to_string(getpid()) + "\n");
  make_network();
  make_files();
  control_ = listen_unix(plan_.control_socket());
  start_services();
  publish();
}

void Supervisor::make_network() {
  host_ns_.reset(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  const std::string& ns = plan_.netns;
  run_to_end({"ip", "netns", "add", ns});
  netns_made_ = true;
  lab_ns_.reset(open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!lab_ns_ || !host_ns_) throw std::runtime_error(sys_error("cannot open network namespace"));
  auto ip = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"ip", "-n", ns});
    run_to_end(args);
  };
  ip({"link", "set", "lo", "up"});
  ip({"link", "add", plan_.bridge, "type", "bridge"});
  ip({"addr", "add", plan_.server_ip + "/" + std::to_string(plan_.prefix_length), "dev",
      plan_.bridge});
  ip({"link", "set", plan_.bridge, "up"});
  for (const auto& b : plan_.boards) {
    ip({"tuntap", "add", "dev", b.tap, "mode", "tap"});
    ip({"link", "set", b.tap, "master", plan_.bridge});
    ip({"link", "set", b.tap, "up"});
  }
}

void Supervisor::make_files() {
  for (auto& b : plan_.boards) {
    fs::create_directories(b.tftp_dir);
    fs::create_directories(b.run_dir);
    write_file_atomically(b.tftp_dir, "cmdline", default_cmdline(*b.type) + "\n");
    if (b.type->uboot_env_flash) {
      std::string flash = boot::environment_image(uboot_environment(b), kUbootEnvBytes);
      write_file_atomically(b.run_dir, "flash1.img", flash);
      fs::resize_file(b.run_dir + "/flash1.img", kUbootFlashBytes);
    }
    console_listeners_[b.name] = listen_loopback(b.console_port);
  }
  fs::create_directories(plan_.state_dir + "/console");
}

pid_t Supervisor::start_service(const std::string& what, const std::vector<std::string>& argv,
                                const std::string& log_file) {
  pid_t pid = spawn(argv, {log_file, {}});
  children_[pid] = {what, ""};
  log("started " + what + " (pid " + std::to_string(pid) + "): " + command_text(argv));
  return pid;
}

void Supervisor::wait_for(const std::string& what, pid_t pid, const std::string& log_file,
                          const std::function<bool()>& ready) {
  crossrig::Deadline deadline(20s);
  const std::string exited = what + " exited at start; its log " + log_file + " says: ";
  const std::string late = what + " was not ready after 20 s; see " + log_file;
  while (!ready()) {
    reap();
    if (!children_.count(pid)) {
      std::string message = exited;
      message += read_text(log_file);
      throw std::runtime_error(message);
    }
    if (deadline.expired()) throw std::runtime_error(late);
    std::this_thread::sleep_for(50ms);
  }
}

void Supervisor::start_services() {
  const std::string& state = plan_.state_dir;
  std::vector<std::string> in_ns{"ip", "netns", "exec", plan_.netns};

  std::string tftp_log = state + "/tftp.log";
  auto tftp_argv = in_ns;
  tftp_argv.insert(tftp_argv.end(), {config_.rig_exe, "tftp", "--root", plan_.tftp_root(),
                                     "--listen", plan_.server_ip + ":69", "--json"});
  pid_t tftp = start_service("rig tftp", tftp_argv, tftp_log);
  wait_for("rig tftp", tftp, tftp_log,
           [&] { return read_text(tftp_log).find("\"listening\"") != std::string::npos; });

  write_file_atomically(state, "dnsmasq.conf", dnsmasq_config(plan_));
  std::string dhcp_log = state + "/dnsmasq.log";
  auto dhcp_argv = in_ns;
  dhcp_argv.insert(dhcp_argv.end(),
                   {"dnsmasq", "--keep-in-foreground", "--conf-file=" + state + "/dnsmasq.conf",
                    "--pid-file=" + state + "/dnsmasq.pid", "--log-facility=-"});
  pid_t dhcp = start_service("dnsmasq", dhcp_argv, dhcp_log);
  wait_for("dnsmasq", dhcp, dhcp_log,
           [&] { return read_text(dhcp_log).find("DHCP, ") != std::string::npos; });

  // One emulated HS100 per board; each relay switch asks this process to sync the board.
  std::string plug_log = state + "/plugsim.log";
  std::vector<std::string> plug_argv{config_.plugsim_exe};
  for (const auto& b : plan_.boards)
    plug_argv.insert(plug_argv.end(), {"--device", "HS100:127.0.0.1:0,name=" + b.name});
  plug_argv.insert(plug_argv.end(),
                   {"--on-change", shell_quote(config_.rig_exe) + " lab relay --state-dir " +
                                       shell_quote(state) + " \"$PLUGSIM_DEVICE\""});
  pid_t plugs = start_service("plugsim", plug_argv, plug_log);
  std::size_t ready_lines = 0;
  wait_for("plugsim", plugs, plug_log, [&] {
    std::istringstream lines(read_text(plug_log));
    ready_lines = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind('{', 0) != 0) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("name") || !j["xor_port"].is_number()) continue;
      for (auto& b : plan_.boards) {
        if (b.name == j["name"]) b.plug_port = j["xor_port"].get<int>();
      }
      ++ready_lines;
    }
    return ready_lines == plan_.boards.size();
  });

  // Boards start powered off, whatever relay state the plug's fixture starts with; the
  // relay events this causes are answered once the lab serves.
  for (const auto& b : plan_.boards) {
    if (plug_is_on(b)) plug_switch(b)->set(false);
  }

  // A multiplexer per board keeps the console while QEMU comes and goes with the power.
  for (const auto& b : plan_.boards) {
    std::string mux_log = state + "/console/serve-" + b.name + ".log";
    pid_t mux = start_service(
        "console multiplexer of " + b.name,
        {config_.rig_exe, "console", "serve", "--name", b.name, "--address",
         "127.0.0.1:" + std::to_string(b.console_port), "--log-dir", state + "/console"},
        mux_log);
    auto socket = console::mux_socket_path(b.name);
    wait_for("console multiplexer of " + b.name, mux, mux_log, [&] { return fs::exists(socket); });
  }
}

void Supervisor::publish() {
  write_file_atomically(plan_.state_dir, "inventory.yaml", inventory_yaml(plan_));
  write_file_atomically(plan_.state_dir, "lab.json", lab_json(plan_, getpid()).dump(2) + "\n");
  fs::path pointer(config_.lab_pointer);
  write_file_atomically(pointer.parent_path().string(), pointer.filename().string(),
                        plan_.inventory_path() + "\n");
}

void Supervisor::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    auto it = children_.find(pid);
    if (it == children_.end()) continue;  // an orphan adopted as subreaper
    if (!it->second.board.empty()) {
      qemu_.erase(it->second.board);
      log("board " + it->second.board + ": QEMU ended (" + status_text(status) + ")");
    } else if (!stopping_) {
      log(it->second.what + " ended unexpectedly (" + status_text(status) + ")");
    }
    children_.erase(it);
  }
}

crossrig::UniqueFd Supervisor::open_tap(const std::string& name) {
  // The tap lives in the lab's namespace; its descriptor works from anywhere, so QEMU itself
  // runs here, where its console port is reachable from rig.
  NetnsVisit visit(lab_ns_.get(), host_ns_.get());
  crossrig::UniqueFd fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) throw std::runtime_error(sys_error("cannot open /dev/net/tun"));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl(fd.get(), TUNSETIFF, &ifr) != 0) throw std::runtime_error(sys_error("tap " + name));
  return fd;
}

void Supervisor::power_on(const LabBoard& board) {
  if (running(board.name)) return;
  crossrig::UniqueFd tap = open_tap(board.tap);
  constexpr int kTapFd = 3, kConsoleFd = 4;
  // Read at each power-on: a job stages its own command line before switching the board on.
  auto argv = qemu_args(board, kTapFd, kConsoleFd,
                        boot::cmdline_from_file_text(read_text(board.tftp_dir + "/cmdline")));
  pid_t pid =
      spawn(argv, {board.run_dir + "/qemu.log",
                   {{tap.get(), kTapFd}, {console_listeners_[board.name].get(), kConsoleFd}}});
  children_[pid] = {"QEMU of " + board.name, board.name};
  qemu_[board.name] = pid;
  log("board " + board.name + ": power on, QEMU pid " + std::to_string(pid));
}

void Supervisor::power_off(const LabBoard& board) {
  if (!running(board.name)) return;
  pid_t pid = qemu_[board.name];
  try {
    qmp_quit(board.run_dir + "/qmp.sock", 5s);
  } catch (const std::exception& e) {
    // QEMU still starting (no QMP socket yet) or wedged: a signal cuts it all the same.
    log("board " + board.name + ": QMP quit failed (" + e.what() + "); sending SIGTERM");
    kill(pid, SIGTERM);
  }
  crossrig::Deadline deadline(10s);
  while (running(board.name) && !deadline.expired()) {
    std::this_thread::sleep_for(20ms);
    reap();
  }
  if (running(board.name)) {
    kill(pid, SIGKILL);
    while (running(board.name)) {
      std::this_thread::sleep_for(20ms);
      reap();
    }
  }
  log("board " + board.name + ": power off");
}

std::unique_ptr<PowerSwitch> Supervisor::plug_switch(const LabBoard& board) {
  Board b;
  b.name = board.name;
  b.power = {"hs100",
             {{"address", "127.0.0.1:" + std::to_string(board.plug_port)}, {"transport", "xor"}}};
  return make_power_switch(b, PowerOptions{});
}

bool Supervisor::plug_is_on(const LabBoard& board) {
  return plug_switch(board)->is_on();
}

std::string Supervisor::answer(const std::string& request, bool& down) {
  std::istringstream words(request);
  std::string verb, name;
  words >> verb >> name;
  if (verb == "down") {
    down = true;
    return "ok";
  }
  if (verb == "status") return "ok " + status_json().dump();
  if (verb == "sync") {
    const LabBoard* board = plan_.find(name);
    if (!board) return "error no board '" + name + "' in this lab";
    // The plug is the truth: whatever order relay events arrive in, the board follows it.
    bool on = plug_is_on(*board);
    if (on) {
      power_on(*board);
    } else {
      power_off(*board);
    }
    return std::string("ok ") + (on ? "on" : "off");
  }
  return "error unknown request '" + verb + "' (sync BOARD, status, down)";
}

void Supervisor::handle_control() {
  crossrig::UniqueFd client(accept4(control_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!client) return;
  std::string request;
  bool down = false;
  std::string reply;
  try {
    crossrig::set_nonblocking(client.get());
    crossrig::Deadline deadline(5s);
    while (request.find('\n') == std::string::npos && request.size() < 1024) {
      std::uint8_t buf[256];
      std::size_t n = crossrig::read_some(client.get(), buf, deadline);
      if (n == 0) break;
      request.append(reinterpret_cast<const char*>(buf), n);
    }
    request = request.substr(0, request.find('\n'));
    reply = answer(request, down);
  } catch (const std::exception& e) {
    reply = std::string("error ") + e.what();
  }
  log("control: " + request + " -> " + reply.substr(0, 80));
  reply += "\n";
  try {
    crossrig::write_all(client.get(),
                        {reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()},
                        crossrig::Deadline(5s));
  } catch (const std::exception&) {
    // The asker went away; its request was carried out all the same.
  }
  if (down) stopping_ = true;
}

nlohmann::json Supervisor::status_json() const {
  nlohmann::json boards = nlohmann::json::object();
  for (const auto& b : plan_.boards) {
    auto it = qemu_.find(b.name);
    boards[b.name] = {{"running", it != qemu_.end()},
                      {"qemu_pid", it != qemu_.end() ? it->second : 0}};
  }
  return {{"supervisor_pid", getpid()}, {"boards", boards}};
}

void Supervisor::serve() {
  while (!stopping_) {
    pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {control_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(sys_error("poll"));
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      while (read(signals_.get(), &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGCHLD) {
          reap();
        } else {
          log("signal " + std::to_string(info.ssi_signo) + ": taking the lab down");
          stopping_ = true;
        }
      }
    }
    if (fds[1].revents & POLLIN) handle_control();
  }
}

void Supervisor::teardown() {
  stopping_ = true;
  for (const auto& [pid, child] : children_)
    kill(pid, SIGTERM);
  crossrig::Deadline deadline(15s);
  while (!children_.empty() && !deadline.expired()) {
    std::this_thread::sleep_for(50ms);
    reap();
  }
  for (const auto& [pid, child] : children_) {
    log(child.what + " ignored SIGTERM; killing it");
    kill(pid, SIGKILL);
  }
  while (!children_.empty()) {
    std::this_thread::sleep_for(50ms);
    reap();
  }
  if (netns_made_) {
    try {
      run_to_end({"ip", "netns", "del", plan_.netns});
    } catch (const std::exception& e) {
      log(e.what());
    }
  }
  if (read_text(config_.lab_pointer).find(plan_.inventory_path()) != std::string::npos) {
    unlink(config_.lab_pointer.c_str());
  }
  unlink(plan_.control_socket().c_str());
  unlink((plan_.state_dir + "/supervisor.pid").c_str());
  log("lab down");
}

}  // namespace

int run_supervisor(const SupervisorConfig& config, int ready_fd) {
  Supervisor supervisor(config);
  auto tell = [&](const std::string& text) {
    std::string line = text + "\n";
    if (write(ready_fd, line.data(), line.size()) < 0) log("the starting command went away");
    close(ready_fd);
  };
  try {
    supervisor.setup();
  } catch (const std::exception& e) {
    log(std::string("setup failed: ") + e.what());
    supervisor.teardown();
    tell(std::string("error: ") + e.what());
    return 1;
  }
  tell("ok");
  try {
    supervisor.serve();
  } catch (const std::exception& e) {
    log(e.what());
  }
  supervisor.teardown();
  return 0;
}

}  // namespace crossrig::rig::lab
