// bench-plugctl: median wall time of whole `plugctl state` processes against plugsim, beside
// the same run's baseline (a process that only opens a TCP connection and exits).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/harness/spawn.h"
#include "bench/harness/stats.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using crossrig::bench::summarize;
using crossrig::bench::time_command;
using crossrig::bench::to_ms;

namespace {

/// A plugsim child serving one device; stopped when this goes away.
class Emulator {
 public:
  Emulator(const fs::path& plugsim, const std::string& spec) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      execl(plugsim.c_str(), plugsim.c_str(), "--device", spec.c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[1024];
    if (f == nullptr || std::fgets(line, sizeof line, f) == nullptr) {
      throw std::runtime_error("plugsim did not start: " + plugsim.string() + " --device " + spec);
    }
    std::fclose(f);
    ready_ = nlohmann::json::parse(line);
  }
  ~Emulator() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;
  const nlohmann::json& ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  nlohmann::json ready_;
};

}  // namespace

int main(int argc, char** argv) {
  fs::path bin_dir = fs::canonical("/proc/self/exe").parent_path();
  int iterations = 200;
  po::options_description opts(
      "Usage: bench-plugctl [options]\n\n"
      "Times whole `plugctl state` processes against plugsim (XOR and KLAP), interleaved with a\n"
      "baseline process that only connects over TCP, and prints medians and their ratio.\n"
      "The issue's goal is a plugctl median of 10 ms or less.\n\nOptions");
  opts.add_options()("help,h", "show this help")(
      "iterations,n", po::value(&iterations)->default_value(iterations), "runs of each command")(
      "bin-dir", po::value<std::string>(), "where plugctl, plugsim and bench-tcp-connect are");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "bench-plugctl: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (vm.count("bin-dir")) bin_dir = vm["bin-dir"].as<std::string>();

  try {
    Emulator xor_plug(bin_dir / "plugsim", "HS110:127.0.0.1:0");
    Emulator klap_plug(bin_dir / "plugsim", "HS100@HS100(UK)_4.1_1.1.0:127.0.0.1:0,klap=0,xor=off");
    std::string xor_port = std::to_string(xor_plug.ready()["xor_port"].get<int>());
    std::string klap_port = std::to_string(klap_plug.ready()["klap_port"].get<int>());
    std::string plugctl = (bin_dir / "plugctl").string();
    std::string connect = (bin_dir / "bench-tcp-connect").string();

    struct Case {
      std::string name;
      std::vector<std::string> argv;
      std::vector<double> ms;
    };
    std::vector<Case> cases = {
        {"baseline: tcp connect process", {connect, "127.0.0.1", xor_port}, {}},
        {"plugctl state (xor)", {plugctl, "-H", "127.0.0.1:" + xor_port, "state"}, {}},
        {"plugctl state (klap, blank creds)",
         {plugctl, "-H", "127.0.0.1:" + klap_port, "--transport", "klap", "state"},
         {}},
    };
    for (auto& c : cases)
      time_command(c.argv);  // Warm the page cache and the emulator.
    for (int i = 0; i < iterations; ++i) {
      for (auto& c : cases)
        c.ms.push_back(to_ms(time_command(c.argv)));
    }
    auto base = summarize(cases[0].ms);
    std::cout << "bench-plugctl: " << iterations << " runs each, interleaved\n";
    for (auto& c : cases) {
      auto s = summarize(c.ms);
      std::cout << crossrig::bench::format_row(c.name, s, "ms", &c == &cases[0] ? nullptr : &base)
                << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "bench-plugctl: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
