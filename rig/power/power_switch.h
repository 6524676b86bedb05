#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace crossrig::rig {

/// A failed power operation, classified as rig's exit codes are.
class PowerError : public std::runtime_error {
 public:
  enum Kind {
    kFailed = 1,       ///< The switch answered but did not do it (or lied about it).
    kUsage = 2,        ///< The command line or the board's power section is wrong.
    kUnreachable = 3,  ///< No answer in time: check the address, the network, the PDU.
    kAuth = 4,         ///< The switch refused our credentials.
  };
  /// what: the message, naming the board.
  PowerError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  /// What the caller does about it.
  Kind kind() const { return kind_; }
  /// rig's exit code for this error.
  int exit_code() const { return static_cast<int>(kind_); }

 private:
  Kind kind_;
};

/// How a board's power is switched and read back; one implementation per driver.
class PowerSwitch {
 public:
  virtual ~PowerSwitch() = default;
  /// Asks the switch to turn the board on or off (not yet confirmed).
  virtual void set(bool on) = 0;
  /// Reads whether the board's power is on now.
  virtual bool is_on() = 0;
  /// What the switch is, for messages: "hs100 10.0.0.5:9999 outlet 2".
  virtual std::string describe() const = 0;
};

/// The knobs of every driver, from the board's power section and the command line.
struct PowerOptions {
  /// Bounds each exchange with the switch (one request, one command run).
  std::chrono::milliseconds timeout{5000};
  /// How many times a new state is read back before the switch counts as not confirming.
  int confirm_attempts = 5;
  /// Pause between two read-backs.
  std::chrono::milliseconds confirm_interval{500};
};

}  // namespace crossrig::rig
