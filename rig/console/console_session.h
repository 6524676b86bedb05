#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "rig/console/matcher.h"

namespace crossrig::rig::console {

/// The expect API for jobs: waits on a console connection for any of several patterns.
/// Failures are NetError: kTimeout names the patterns and the last lines seen; kClosed when
/// the console went away first.
class ConsoleSession {
 public:
  /// fd: a connection from open_console(); name: the board, for messages.
  ConsoleSession(UniqueFd fd, std::string name, std::size_t window = 64 * 1024);

  /// Waits up to timeout for the first of patterns (see Matcher for how they match).
  ExpectMatch expect(const std::vector<std::string>& patterns, std::chrono::milliseconds timeout);
  /// Sends text to the console.
  void send(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// The last lines seen, for a job's own messages.
  std::vector<std::string> recent_lines() const { return matcher_.recent_lines(); }

 private:
  std::string describe(const std::vector<std::string>& patterns) const;

  UniqueFd fd_;
  std::string name_;
  Matcher matcher_;
};

}  // namespace crossrig::rig::console
