#include "engine/terminal.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <exception>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "engine/ckpt_error.h"
#include "engine/proc_parse.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"

namespace crossrig::engine {

std::vector<TtyDriver> parse_tty_drivers(std::string_view text) {
  std::vector<TtyDriver> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::istringstream f(line);
    TtyDriver d;
    std::string path, minors;
    if (!(f >> d.name >> path >> d.major >> minors >> d.type))
      throw std::runtime_error("unreadable /proc/tty/drivers line: " + line);
    std::size_t dash = minors.find('-');
    try {
      d.minor_first = static_cast<unsigned>(std::stoul(minors.substr(0, dash)));
      d.minor_last = dash == std::string::npos
                         ? d.minor_first
                         : static_cast<unsigned>(std::stoul(minors.substr(dash + 1)));
    } catch (const std::exception&) {
      throw std::runtime_error("unreadable minor range in /proc/tty/drivers line: " + line);
    }
    out.push_back(std::move(d));
  }
  return out;
}

const TtyDriver* tty_driver(const std::vector<TtyDriver>& drivers, unsigned major, unsigned minor) {
  for (const TtyDriver& d : drivers)
    if (d.major == major && minor >= d.minor_first && minor <= d.minor_last) return &d;
  return nullptr;
}

dev_t tty_nr_device(std::uint64_t tty_nr) {
  auto major_nr = static_cast<unsigned>((tty_nr >> 8) & 0xfff);
  auto minor_nr = static_cast<unsigned>((tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00));
  return makedev(major_nr, minor_nr);
}

namespace {

// The session whose controlling terminal dev is: that of any process it is the controlling
// terminal of; none when it is nobody's.
std::optional<pid_t> session_of(dev_t dev) {
  for (int pid : list_numeric_dir("/proc")) {
    try {
      ProcStat stat(read_file(proc_path(pid, "stat")));
      auto tty = static_cast<std::uint64_t>(stat.number(7));
      if (tty != 0 && tty_nr_device(tty) == dev) return static_cast<pid_t>(stat.number(6));
    } catch (const std::exception&) {
      // It exited while we looked.
    }
  }
  return std::nullopt;
}

}  // namespace

void refuse_foreign_terminals(const std::vector<pid_t>& pids, const std::set<pid_t>& tree) {
  std::vector<TtyDriver> drivers;
  try {
    drivers = parse_tty_drivers(read_file("/proc/tty/drivers"));
  } catch (const std::runtime_error& e) {
    throw CkptError(CkptError::kSystem, std::string(e.what()));
  }
  for (pid_t pid : pids) {
    ProcStat stat(read_file(proc_path(pid, "stat")));
    const auto own_sid = static_cast<pid_t>(stat.number(6));
    const auto ctty = static_cast<std::uint64_t>(stat.number(7));
    for (int fd : list_numeric_dir(proc_path(pid, "fd"))) {
      std::string link = proc_path(pid, "fd/" + std::to_string(fd));
      struct stat st {};
      if (::stat(link.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) continue;
      const TtyDriver* d = tty_driver(drivers, major(st.st_rdev), minor(st.st_rdev));
      // A pty master belongs to whoever holds it; pseudo-terminal pairs are kernel objects
      // of their own, like pipes.
      if (d == nullptr || d->type == "pty:master" || d->type == "system") continue;
      // /dev/tty is whichever terminal controls the process.
      bool own = d->type == "system:/dev/tty" || (ctty != 0 && tty_nr_device(ctty) == st.st_rdev);
      std::optional<pid_t> sid =
          own ? std::optional<pid_t>(ctty != 0 ? own_sid : 0) : session_of(st.st_rdev);
      if (!sid || *sid == 0 || tree.contains(*sid)) continue;
      throw CkptError(
          CkptError::kUnsupported,
          "process " + std::to_string(pid) + " has fd " + std::to_string(fd) + " on terminal " +
              read_link(link) + ", the controlling terminal of session " + std::to_string(*sid) +
              ", whose leader is not dumped: this is a job of a shell; dump it with "
              "--shell-job and restore it with --shell-job from the shell that is to own it, or "
              "dump the whole session from its leader");
    }
  }
}

}  // namespace crossrig::engine
