#pragma once
// Two hosts on one machine, for live migration: this process becomes the source, alone in a
// network namespace of its own, so that what it starts (the tracee, `ckpt migrate`) shares that
// namespace; the destination is a PID, mount and network namespace whose init mounts its own
// /proc and reaps what is orphaned there, as a host's init does. A veth pair joins them:
// 10.77.0.1/24 here, 10.77.0.2/24 there.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace crossrig::ckpt_test {

inline constexpr const char* kSourceAddress = "10.77.0.1";
inline constexpr const char* kDestinationAddress = "10.77.0.2";

class TwoHosts {
 public:
  /// Moves this process (single-threaded: unshare moves the calling thread only) into a new
  /// network namespace for good, starts the destination and links the two; throws
  /// std::runtime_error naming the step that failed.
  TwoHosts();
  /// Kills the destination's init, and with it every process of the destination.
  ~TwoHosts();
  TwoHosts(const TwoHosts&) = delete;
  TwoHosts& operator=(const TwoHosts&) = delete;

  /// The destination's init as this process sees it: a child of ours, whose death ends the
  /// destination (for a test's list of processes to kill when it gives up).
  pid_t init() const { return init_; }

  /// argv run inside the destination (argv[0] a path): the command nsenter runs it with, as a
  /// process of the destination that is not its init, so that what it leaves running (a
  /// restored tree) is reparented to the init when it exits.
  std::vector<std::string> inside(const std::vector<std::string>& argv) const;

  /// The pid here of the destination's live process whose pid there is ns_pid; 0 if none.
  pid_t find(pid_t ns_pid) const;

  /// The destination's live processes but its init: pid there -> pid here.
  std::map<pid_t, pid_t> processes() const;

 private:
  pid_t init_ = -1;
  std::string pid_ns_;  // the destination's PID namespace, as /proc/PID/ns/pid names it
};

}  // namespace crossrig::ckpt_test
