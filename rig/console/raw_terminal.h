#pragma once

#include <termios.h>

namespace crossrig::rig::console {

/// Puts a terminal in raw mode (keys go to the board as typed, Ctrl-C included) and restores
/// its settings when destroyed. Not a terminal: does nothing.
class RawTerminal {
 public:
  /// Throws std::runtime_error when fd is a terminal that cannot be switched.
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  /// True when fd was a terminal and is now raw.
  bool active() const { return active_; }

 private:
  int fd_;
  bool active_ = false;
  termios saved_{};
};

}  // namespace crossrig::rig::console
