#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace crossrig::bench {

/// Runs argv to completion with stdin, stdout and stderr on /dev/null and returns its wall
/// time, from just before the spawn to the end of waitpid. Throws std::runtime_error naming the
/// command if it cannot start or does not exit 0.
std::chrono::nanoseconds time_command(const std::vector<std::string>& argv);

/// Milliseconds as a double, for summaries.
inline double to_ms(std::chrono::nanoseconds d) {
  return static_cast<double>(d.count()) / 1e6;
}

}  // namespace crossrig::bench
