// bench-service CKPT [DIR] [MiB...]: what a checkpoint costs a program that asks ckpt service
// for it (libckpt's dump_self) against `ckpt dump --leave-running` of the same process from the
// command line, in the same run. For each size a child writes that many MiB of memory, is
// dumped 5 times by the CLI (the baseline: a process started per dump, no socket), then dumps
// itself 5 times through a `ckpt service` on a unix socket in DIR (default /dev/shm), timing
// each call from before its connect to the reply. Medians; the ratio is the service path's
// cost (socket, protocol, the image given to its caller) on top of the same dump.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/spawn.h"
#include "bench/harness/stats.h"
#include "engine/api/libckpt.h"

namespace fs = std::filesystem;
using namespace crossrig;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRuns = 5;

// The child: writes mib MiB, says it is ready, waits for SIGUSR1, then dumps itself kRuns times
// through the service and writes each time (ms) into times. Its fds are /dev/null only: a
// pipe to the parent would be a pipe the dump cannot take.
[[noreturn]] void child(std::size_t mib, const fs::path& dir, const std::string& socket) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, nullptr);
  std::vector<char> memory(mib << 20);
  for (std::size_t i = 0; i < memory.size(); i += 4096)
    memory[i] = static_cast<char>(i >> 12);
  std::ofstream(dir / "ready") << "ready";
  int sig = 0;
  sigwait(&usr1, &sig);
  std::ofstream times(dir / "times");
  for (int i = 0; i < kRuns; ++i) {
    ckpt::Options o;
    o.images_dir = (dir / ("self-" + std::to_string(i))).string();
    o.leave_running = true;
    const auto start = Clock::now();
    try {
      ckpt::dump_self(socket, o);
    } catch (const std::exception& e) {
      times << "error " << e.what() << "\n";
      std::_Exit(1);
    }
    times << std::chrono::duration<double, std::milli>(Clock::now() - start).count() << "\n";
    times.flush();
  }
  std::_Exit(memory[4096] == 1 ? 0 : 2);
}

// Starts argv with its output in log.
pid_t start(const std::vector<std::string>& argv, const fs::path& log) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
    ::close_range(3, ~0U, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

void wait_for(const fs::path& file) {
  for (int i = 0; i < 6000 && !fs::exists(file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!fs::exists(file)) throw std::runtime_error(file.string() + " never appeared");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::printf(
        "usage: bench-service CKPT [DIR] [MiB...]\n"
        "A process dumping itself through ckpt service (libckpt's dump_self) vs ckpt dump\n"
        "--leave-running of it from the command line; medians of %d runs, ratios to the CLI.\n"
        "Images go to DIR (default /dev/shm); sizes default to 16 and 128 MiB. Runs as root.\n",
        kRuns);
    return argc < 2 ? 2 : 0;
  }
  const std::string ckpt = argv[1];
  const fs::path base = fs::path(argc > 2 ? argv[2] : "/dev/shm") /
                        ("crossrig-bench-service-" + std::to_string(::getpid()));
  std::vector<std::size_t> sizes;
  for (int i = 3; i < argc; ++i)
    sizes.push_back(std::stoul(argv[i]));
  if (sizes.empty()) sizes = {16, 128};
  fs::create_directories(base);
  const std::string socket = (base / "ckpt.sock").string();
  const pid_t service = start({ckpt, "service", "--address", socket}, base / "service.log");
  int rc = 0;
  try {
    wait_for(socket);
    for (std::size_t mib : sizes) {
      const fs::path dir = base / std::to_string(mib);
      fs::create_directories(dir);
      const pid_t tracee = ::fork();
      if (tracee == 0) {
        ::close_range(0, ~0U, 0);
        for (int fd = 0; fd < 3; ++fd) {
          if (::open("/dev/null", O_RDWR) != fd) std::_Exit(126);
        }
        child(mib, dir, socket);
      }
      wait_for(dir / "ready");
      std::vector<double> cli, self;
      for (int i = 0; i < kRuns; ++i) {
        const fs::path image = dir / ("cli-" + std::to_string(i));
        cli.push_back(
            bench::to_ms(bench::time_command({ckpt, "dump", "--leave-running", "-t",
                                              std::to_string(tracee), "-D", image.string()})));
      }
      ::kill(tracee, SIGUSR1);
      int status = 0;
      ::waitpid(tracee, &status, 0);
      std::ifstream times(dir / "times");
      for (std::string line; std::getline(times, line);) {
        if (line.starts_with("error")) throw std::runtime_error("dump_self: " + line.substr(6));
        self.push_back(std::stod(line));
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || self.size() != kRuns)
        throw std::runtime_error("the self-dumping child failed (status " + std::to_string(status) +
                                 ")");
      const bench::Summary baseline = bench::summarize(cli);
      const std::string size = std::to_string(mib) + " MiB";
      std::printf("%s\n", bench::format_row("ckpt dump --leave-running (CLI), " + size, baseline,
                                            "ms", nullptr)
                              .c_str());
      std::printf("%s\n", bench::format_row("dump_self through ckpt service, " + size,
                                            bench::summarize(self), "ms", &baseline)
                              .c_str());
      fs::remove_all(dir);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-service: %s\n", e.what());
    rc = 1;
  }
  ::kill(service, SIGTERM);
  ::waitpid(service, nullptr, 0);
  fs::remove_all(base);
  return rc;
}
