#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "plugctl/sim/device_spec.h"

namespace crossrig::plugsim {

/// Process-wide settings of plugsim.
struct ServerOptions {
  std::string on_change;   ///< Shell command run when a relay switches; empty: none.
  std::string state_file;  ///< Where relay states persist; empty: nowhere.
  bool verbose = false;    ///< One line per request on stderr.
  /// A connection with no request under way is closed after this long.
  std::chrono::milliseconds idle_timeout{30000};
  /// A request must arrive whole this long after its first byte (slow clients are dropped).
  std::chrono::milliseconds request_timeout{5000};
  /// Connections beyond this many are closed as soon as they are accepted.
  std::size_t max_connections = 1000;
};

/// Emulates plugs and strips on sockets: XOR over TCP and UDP, KLAP over HTTP, KLAP discovery
/// on UDP 20002; a single-threaded epoll loop.
// Plain epoll rather than Boost.Asio: every limit a hostile client meets (buffer sizes, the
// request and idle deadlines, the connection cap, reading one chunk per wake-up for fairness)
// is a visible line in one loop, signals arrive through a signalfd, and the device model needs
// no locking because nothing else runs.
class SimServer {
 public:
  /// Loads fixtures, credentials and saved states; throws std::exception naming the device.
  SimServer(std::vector<DeviceSpec> specs, ServerOptions options);
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  /// Opens every socket; throws std::runtime_error naming the device and address.
  void bind();
  /// One JSON object per device and line: name, model, address, xor_port, klap_port, tdp_port, mac.
  std::string ready_lines() const;
  /// Serves until SIGTERM or SIGINT (which must be blocked by the caller); returns the exit status.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crossrig::plugsim
