#pragma once
// Terminals a dump must refuse without --shell-job: those of a session outside the dumped
// tree. Restoring them by path would give the task a terminal that belongs to someone else's
// session (a shell's), so, as CRIU does, such a job is dumped only with --shell-job.

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace crossrig::engine {

/// A range of character devices one tty driver serves, from a line of /proc/tty/drivers.
struct TtyDriver {
  std::string name;  ///< "pty_slave", "/dev/tty" ...
  unsigned major = 0, minor_first = 0, minor_last = 0;
  std::string type;  ///< "pty:slave", "system:/dev/tty", "serial" ...
};

/// Parses /proc/tty/drivers; throws std::runtime_error naming a line it cannot read.
std::vector<TtyDriver> parse_tty_drivers(std::string_view text);

/// The driver serving a character device, or nullptr when it is no terminal.
const TtyDriver* tty_driver(const std::vector<TtyDriver>& drivers, unsigned major, unsigned minor);

/// The device number of a /proc/PID/stat tty_nr field (the kernel's new_encode_dev()).
dev_t tty_nr_device(std::uint64_t tty_nr);

/// Throws CkptError kUnsupported, naming the process, fd and terminal, when a process of
/// pids holds a terminal whose session is not led by a process of tree (a shell's job);
/// reads /proc only, so nothing is changed in any task.
void refuse_foreign_terminals(const std::vector<pid_t>& pids, const std::set<pid_t>& tree);

}  // namespace crossrig::engine
