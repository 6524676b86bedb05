#pragma once

#include <chrono>
#include <string>

namespace crossrig::rig {

/// What a shell command did.
struct ShellResult {
  /// The exit status; -1 when it was killed for running past its time.
  int exit_code = -1;
  bool timed_out = false;
  /// Its standard output (at most 64 KiB kept); stderr goes to ours.
  std::string output;
};

/// Runs `/bin/sh -c command` in its own process group with stdin from /dev/null, killing the
/// whole group if it runs longer than timeout. Throws std::system_error if it cannot start.
ShellResult run_shell(const std::string& command, std::chrono::milliseconds timeout);

}  // namespace crossrig::rig
