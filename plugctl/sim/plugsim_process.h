#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crossrig::plugsim {

/// A plugsim process for tests: started with its arguments, ready once it has printed one
/// line per device, stopped with SIGTERM (SIGKILL if it lingers) when destroyed.
class PlugsimProcess {
 public:
  /// Runs `launcher... binary args...`; throws std::runtime_error with plugsim's stderr if it
  /// exits or stays silent instead of printing its ready lines.
  PlugsimProcess(const std::string& binary, const std::vector<std::string>& args,
                 const std::vector<std::string>& launcher = {});
  ~PlugsimProcess();
  PlugsimProcess(const PlugsimProcess&) = delete;
  PlugsimProcess& operator=(const PlugsimProcess&) = delete;

  /// The ready line of each device, in --device order.
  const std::vector<nlohmann::json>& devices() const { return devices_; }
  /// The XOR port of device i.
  int xor_port(std::size_t i = 0) const { return devices_.at(i)["xor_port"]; }
  /// The KLAP port of device i.
  int klap_port(std::size_t i = 0) const { return devices_.at(i)["klap_port"]; }
  pid_t pid() const { return pid_; }
  /// Sends SIGTERM and waits; returns the exit status, or 128+signal, or -1 if it had to be killed.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  /// What plugsim wrote to stderr so far.
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  std::string stderr_path_;
  std::vector<nlohmann::json> devices_;
};

/// What a finished command did.
struct CommandResult {
  int exit_code = -1;  ///< The exit status, 128+signal when killed.
  std::string out, err;
};

/// Runs argv to completion (killed after `limit`), capturing stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds limit = std::chrono::seconds(60),
                          const std::vector<std::string>& extra_env = {});

}  // namespace crossrig::plugsim
