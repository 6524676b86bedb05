#pragma once

#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "common/host_port.h"
#include "rig/tftp/tftp_log.h"
#include "rig/tftp/tftp_map.h"
#include "rig/tftp/tftp_options.h"

namespace crossrig::rig::tftp {

/// How a Server runs.
struct ServerConfig {
  std::filesystem::path root;              ///< Directory served, read-only.
  std::vector<crossrig::HostPort> listen;  ///< Addresses to listen on; port 0 picks one.
  MapRules map;                            ///< Per-client remapping of names.
  OptionLimits limits;
  int max_retries = 6;   ///< Timeouts in a row before a transfer fails.
  unsigned threads = 0;  ///< Event loops serving transfers; 0: one per CPU (at most 8).
  /// Called on one of the server's threads, never two calls at once.
  std::function<void(const TransferRecord&)> on_transfer;
};

/// A read-only TFTP server: one epoll loop per thread, each with its transfers, one UDP socket
/// per transfer (a new ephemeral port, as RFC 1350 says), timers per transfer. Usable from
/// another program: run() in a thread of its own (or start()), stop() from anywhere.
class Server {
 public:
  /// Opens the root and binds the listening sockets; throws std::runtime_error saying what failed.
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The bound listening addresses, with the ports the kernel chose.
  std::vector<crossrig::SocketAddress> local_addresses() const;
  /// Serves until stop(); throws std::runtime_error on a failure of the loop itself.
  void run();
  /// Runs run() on a thread of its own.
  void start();
  /// Makes run() return soon; safe from any thread. Joins the thread start() made and
  /// rethrows what ended its loop early, if anything did.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::exception_ptr failure_;
};

}  // namespace crossrig::rig::tftp
