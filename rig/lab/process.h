#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace crossrig::rig::lab {

/// How a child of the lab's supervisor starts.
struct SpawnOptions {
  /// stdout and stderr are appended here; "" means /dev/null.
  std::string log_file;
  /// (descriptor in the supervisor, number it gets in the child), inherited across exec.
  std::vector<std::pair<int, int>> fds;
};

/// Starts argv[0] (searched in PATH) with the signal mask cleared and stdin on /dev/null.
/// Throws std::runtime_error when it cannot fork; an exec failure shows as exit status 127.
pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

/// Runs argv to its end and returns; throws std::runtime_error with what it printed on
/// stderr when it exits non-zero.
void run_to_end(const std::vector<std::string>& argv);

/// The text of argv joined by spaces, for messages.
std::string command_text(const std::vector<std::string>& argv);

}  // namespace crossrig::rig::lab
