// bench-tftp: download rates of rig's TFTP server beside tftpd-hpa, atftpd and a minimal
// responder (the protocol's limit), all on loopback serving the same file from /dev/shm,
// measured in the same run with the same client (rig_tftp's fetch), interleaved.
#include <fmt/core.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/child_process.h"
#include "bench/harness/stats.h"
#include "common/unique_fd.h"
#include "rig/tftp/tftp_client.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using crossrig::bench::summarize;
using crossrig::bench::Summary;

namespace {

// A server child process, stopped with SIGTERM when this goes away.
class ServerProcess {
 public:
  ServerProcess(std::string name, const std::vector<std::string>& argv, const fs::path& log)
      : name_(std::move(name)), process_(argv, options_for(log)) {}
  const std::string& name() const { return name_; }
  bool running() const { return process_.running(); }

 private:
  static crossrig::bench::ChildOptions options_for(const fs::path& log) {
    crossrig::bench::ChildOptions o;
    o.out = log;
    o.err = log;
    o.parent_death_signal = SIGKILL;
    o.stop_signal = SIGTERM;
    return o;
  }

  std::string name_;
  crossrig::bench::ChildProcess process_;
};

crossrig::SocketAddress loopback(std::uint16_t port) {
  crossrig::SocketAddress a;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::memcpy(&a.storage, &in, sizeof in);
  a.length = sizeof in;
  return a;
}

// A UDP port free now on 127.0.0.1, for servers that cannot pick one themselves.
std::uint16_t free_port() {
  crossrig::UniqueFd fd(socket(AF_INET, SOCK_DGRAM, 0));
  auto a = loopback(0);
  if (bind(fd.get(), a.get(), a.length) != 0 || getsockname(fd.get(), a.get(), &a.length) != 0) {
    throw std::runtime_error("cannot bind a loopback UDP port");
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(a.get())->sin_port);
}

// The port a server printed as JSON on its first line of log.
std::uint16_t port_from_log(const fs::path& log, const std::string& key, const ServerProcess& p) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream in(log);
    std::string line;
    if (std::getline(in, line) && !line.empty()) {
      auto j = nlohmann::json::parse(line);
      if (key == "addresses") {
        auto text = j["addresses"][0].get<std::string>();
        return static_cast<std::uint16_t>(std::stoi(text.substr(text.rfind(':') + 1)));
      }
      return j[key].get<std::uint16_t>();
    }
    if (!p.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error(p.name() + " did not start; see " + log.string());
}

// Waits until the server answers a request for the probe file.
void wait_ready(const ServerProcess& p, std::uint16_t port) {
  crossrig::rig::tftp::FetchOptions o;
  o.timeout = std::chrono::milliseconds(100);
  o.retries = 50;
  auto r = crossrig::rig::tftp::fetch(loopback(port), "probe", o);
  if (!r.ok)
    throw std::runtime_error(p.name() + " does not answer on port " + std::to_string(port) + ": " +
                             r.error);
}

struct Case {
  std::uint16_t blksize;
  std::uint16_t windowsize;
  int clients;
  std::string label() const {
    return fmt::format("blksize {}, windowsize {}, {} client{}", blksize, windowsize, clients,
                       clients == 1 ? "" : "s");
  }
};

struct Target {
  std::string name;
  std::uint16_t port;
};

// MB/s of `clients` simultaneous downloads of file, all bytes counted; throws on a failure.
double measure(const Target& t, const Case& c, std::uint64_t size) {
  crossrig::rig::tftp::FetchOptions o;
  o.blksize = c.blksize;
  o.windowsize = c.windowsize;
  o.keep_data = false;
  o.timeout = std::chrono::milliseconds(1000);
  std::vector<crossrig::rig::tftp::FetchResult> results(static_cast<std::size_t>(c.clients));
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back(
        [&r, &t, &o] { r = crossrig::rig::tftp::fetch(loopback(t.port), "file", o); });
  }
  for (auto& th : threads)
    th.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& r : results) {
    if (!r.ok || r.bytes != size) {
      throw std::runtime_error(fmt::format("{} ({}): download failed after {} bytes: {}", t.name,
                                           c.label(), r.bytes, r.error));
    }
  }
  return static_cast<double>(size) * c.clients / seconds / 1e6;
}

std::string find_atftpd(const std::string& given) {
  if (!given.empty()) return given;
  for (const char* candidate : {"/usr/sbin/atftpd", "/opt/crossrig/atftpd/usr/sbin/atftpd"}) {
    if (access(candidate, X_OK) == 0) return candidate;
  }
  throw std::runtime_error(
      "atftpd not found: run scripts/setup (it unpacks the Debian package atftpd, which "
      "conflicts with tftpd-hpa, into /opt/crossrig/atftpd) or pass --atftpd PATH");
}

}  // namespace

int main(int argc, char** argv) {
  fs::path bin_dir = fs::canonical("/proc/self/exe").parent_path();
  int iterations = 5;
  std::uint64_t mib = 64;
  std::string atftpd_path, in_tftpd = "/usr/sbin/in.tftpd";
  po::options_description opts(
      "Usage: bench-tftp [options]\n\n"
      "Downloads one file from rig's TFTP server (as it runs, and with --threads 1:\n"
      "rig-1loop), tftpd-hpa (lockstep only), atftpd and\n"
      "bench-tftp-limit (a responder with no timers: the protocol's limit) on loopback, with\n"
      "the same client, at blksize 1468 and 65464, windowsize 1 and 16, 1 and 16 concurrent\n"
      "clients, interleaved; prints median MB/s (all clients together) and ratios.\n"
      "Goals from the issue: windowsize 16 at 1468 >= 3x tftpd-hpa lockstep and above atftpd;\n"
      "lockstep within 10% of the limit; 65464 at least tftpd-hpa's; 16 clients >= 1.6x one.\n"
      "Exit codes: 0 measured, 1 a server failed or is missing, 2 usage.\n\nOptions");
  opts.add_options()("help,h", "show this help")(
      "iterations,n", po::value(&iterations)->default_value(iterations), "runs of each case")(
      "size-mib", po::value(&mib)->default_value(mib), "file size in MiB")(
      "atftpd", po::value(&atftpd_path), "atftpd binary (default: found by scripts/setup)")(
      "in-tftpd", po::value(&in_tftpd)->default_value(in_tftpd), "tftpd-hpa's binary")(
      "json", "print the results as one JSON object");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "bench-tftp: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (iterations < 1 || mib < 1) {
    std::cerr << "bench-tftp: --iterations and --size-mib must be at least 1\n";
    return 2;
  }
  char dir_template[] = "/dev/shm/bench-tftp.XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::cerr << "bench-tftp: cannot create a directory in /dev/shm\n";
    return 1;
  }
  fs::path dir = dir_template;
  int status = 0;
  try {
    // The servers drop root for "nobody": the tree must be world-readable.
    fs::path root = dir / "root";
    fs::create_directory(root);
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec |
                             fs::perms::group_read | fs::perms::others_read);
    std::uint64_t size = mib << 20;
    {
      std::vector<std::uint64_t> data(size / 8);
      std::mt19937_64 random(42);
      for (auto& w : data)
        w = random();
      std::ofstream(root / "file", std::ios::binary)
          .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(size));
      std::ofstream(root / "probe") << "x";
    }
    std::string atftpd = find_atftpd(atftpd_path);
    if (access(in_tftpd.c_str(), X_OK) != 0) {
      throw std::runtime_error(in_tftpd + " not found: run scripts/setup (package tftpd-hpa)");
    }
    std::vector<std::unique_ptr<ServerProcess>> processes;
    std::vector<Target> targets;
    // rig as it runs (a loop per CPU) and with one event loop, the baseline of the threads.
    for (const auto& [name, threads] : {std::pair<std::string, std::string>{"rig", "0"},
                                        std::pair<std::string, std::string>{"rig-1loop", "1"}}) {
      auto log = dir / (name + ".log");
      processes.push_back(std::make_unique<ServerProcess>(
          name,
          std::vector<std::string>{(bin_dir / "rig").string(), "tftp", "--root", root, "--listen",
                                   "127.0.0.1:0", "--json", "--threads", threads},
          log));
      targets.push_back({name, port_from_log(log, "addresses", *processes.back())});
    }
    auto limit_log = dir / "limit.log";
    processes.push_back(std::make_unique<ServerProcess>(
        "limit", std::vector<std::string>{(bin_dir / "bench-tftp-limit").string(), root / "file"},
        limit_log));
    targets.push_back({"limit", port_from_log(limit_log, "port", *processes.back())});
    std::uint16_t hpa_port = free_port();
    processes.push_back(std::make_unique<ServerProcess>(
        "tftpd-hpa",
        std::vector<std::string>{in_tftpd, "-L", "-s", root, "-a",
                                 "127.0.0.1:" + std::to_string(hpa_port)},
        dir / "tftpd-hpa.log"));
    targets.push_back({"tftpd-hpa", hpa_port});
    std::uint16_t atftpd_port = free_port();
    processes.push_back(std::make_unique<ServerProcess>(
        "atftpd",
        std::vector<std::string>{atftpd, "--daemon", "--no-fork", "--port",
                                 std::to_string(atftpd_port), "--bind-address", "127.0.0.1",
                                 "--logfile", "/dev/null", root},
        dir / "atftpd.log"));
    targets.push_back({"atftpd", atftpd_port});
    for (std::size_t i = 0; i < targets.size(); ++i)
      wait_ready(*processes[i], targets[i].port);

    const std::vector<Case> cases = {{1468, 1, 1},   {1468, 16, 1},  {65464, 1, 1},
                                     {65464, 16, 1}, {1468, 1, 16},  {1468, 16, 16},
                                     {65464, 1, 16}, {65464, 16, 16}};
    std::map<std::pair<std::size_t, std::string>, std::vector<double>> samples;
    for (const auto& t : targets)
      measure(t, cases[0], size);  // warm caches
    for (int i = 0; i < iterations; ++i) {
      for (std::size_t c = 0; c < cases.size(); ++c) {
        for (const auto& t : targets)
          samples[{c, t.name}].push_back(measure(t, cases[c], size));
      }
    }
    auto median = [&](std::size_t c, const std::string& name) {
      return summarize(samples[{c, name}]).median;
    };
    nlohmann::json out = {
        {"size_mib", mib}, {"iterations", iterations}, {"cases", nlohmann::json::array()}};
    if (!vm.count("json")) {
      std::cout << fmt::format(
          "bench-tftp: {} MiB file, {} runs per cell, MB/s of all clients "
          "together (median, p10-p90)\n",
          mib, iterations);
    }
    for (std::size_t c = 0; c < cases.size(); ++c) {
      double hpa = median(c, "tftpd-hpa"), limit = median(c, "limit");
      if (!vm.count("json")) std::cout << "\n" << cases[c].label() << "\n";
      for (const auto& t : targets) {
        Summary s = summarize(samples[{c, t.name}]);
        out["cases"].push_back({{"blksize", cases[c].blksize},
                                {"windowsize", cases[c].windowsize},
                                {"clients", cases[c].clients},
                                {"server", t.name},
                                {"mb_per_s", s.median},
                                {"p10", s.p10},
                                {"p90", s.p90}});
        if (!vm.count("json")) {
          std::cout << fmt::format(
              "  {:<10} {:8.1f} MB/s ({:.1f}-{:.1f})  {:5.2f}x tftpd-hpa  "
              "{:5.2f}x limit\n",
              t.name, s.median, s.p10, s.p90, s.median / hpa, s.median / limit);
        }
      }
    }
    struct Goal {
      std::string text;
      double value, threshold;
    };
    std::vector<Goal> goals = {
        {"rig w16/1468 vs tftpd-hpa lockstep 1468 (>= 3x)",
         median(1, "rig") / median(0, "tftpd-hpa"), 3.0},
        {"rig w16/1468 vs atftpd w16/1468 (> 1x)", median(1, "rig") / median(1, "atftpd"), 1.0},
        {"rig lockstep 1468 vs limit (>= 0.9x)", median(0, "rig") / median(0, "limit"), 0.9},
        {"rig lockstep 65464 vs limit (>= 0.9x)", median(2, "rig") / median(2, "limit"), 0.9},
        {"rig 65464 vs tftpd-hpa 65464 (>= 1x)", median(2, "rig") / median(2, "tftpd-hpa"), 1.0},
        {"rig 16 clients vs 1, w16/1468 (>= 1.6x)", median(5, "rig") / median(1, "rig"), 1.6},
        {"rig 16 clients vs 1, w16/65464 (>= 1.6x)", median(7, "rig") / median(3, "rig"), 1.6},
        {"rig vs one loop, 16 clients w16/1468 (info)", median(5, "rig") / median(5, "rig-1loop"),
         0.0},
        {"rig vs one loop, 16 clients w16/65464 (info)", median(7, "rig") / median(7, "rig-1loop"),
         0.0},
    };
    if (!vm.count("json")) std::cout << "\nGoals (ratios of medians of this run):\n";
    // A threshold of 0 marks a ratio printed for information, with no goal.
    for (const auto& g : goals) {
      bool informative = g.threshold == 0;
      out["goals"].push_back({{"goal", g.text},
                              {"ratio", g.value},
                              {"met", informative ? nlohmann::json(nullptr)
                                                  : nlohmann::json(g.value >= g.threshold)}});
      if (!vm.count("json")) {
        const char* verdict = informative ? "" : g.value >= g.threshold ? "met" : "NOT met";
        std::cout << fmt::format("  {:<50} {:5.2f}x  {}\n", g.text, g.value, verdict);
      }
    }
    if (vm.count("json")) std::cout << out.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench-tftp: " << e.what() << "\n";
    status = 1;
  }
  fs::remove_all(dir);
  return status;
}
