#pragma once
// `ckpt service`: checkpoints on request, for programs and job runtimes that ask instead of a
// person typing commands. One request per connection on a unix socket (service_protocol.h);
// each caller is who the kernel says (SO_PEERCRED) and acts only on its own processes and
// images (peer.h). Engine operations run one at a time, all in one thread: a tracer must be
// one thread, and a process restored by a thread that ends would get its parent-death signal.
// Requests are read and answered concurrently, so a slow or broken client never holds up the
// others.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "engine/service/peer.h"
#include "engine/service/service_protocol.h"

namespace crossrig::engine::service {

struct ServiceOptions {
  std::string address;  ///< The socket's path.
  /// How long a client may take to send its request (and to take the reply).
  std::chrono::milliseconds request_timeout{10000};
  /// Connections served at once; more get a "busy" error at once.
  int max_connections = 32;
  std::ostream* log = nullptr;  ///< Where each request and refusal is logged.
  /// Run around every dump and restore the service does, as root (engine/action_scripts.h).
  /// The administrator's only: a request cannot name scripts.
  std::vector<std::string> action_scripts;
};

class Service {
 public:
  /// Listens on options.address (mode 0666: the peer check, not the file, decides), replacing
  /// a stale socket file; throws kUsage when another service answers there.
  explicit Service(ServiceOptions options);
  /// Removes the socket file.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  /// Serves until stop is set, then waits for the connections being served.
  void run(const std::atomic<bool>& stop);

 private:
  void serve(UniqueFd conn);
  nlohmann::json handle(const Peer& peer, const Request& request);
  nlohmann::json dump(const Peer& peer, const Request& request);
  nlohmann::json restore(const Peer& peer, const Request& request);
  void log(const std::string& line);
  /// Runs op in the engine thread and returns what it returned, or throws what it threw.
  nlohmann::json on_engine(std::function<nlohmann::json()> op);
  void engine_loop();

  ServiceOptions options_;
  UniqueFd listener_;
  std::mutex queue_mutex_;
  std::condition_variable queued_;
  std::deque<std::packaged_task<nlohmann::json()>> queue_;
  bool stopping_ = false;
  std::mutex log_mutex_;
  std::mutex active_mutex_;
  std::condition_variable idle_;
  int active_ = 0;
  std::thread engine_thread_;  ///< Last: it starts once everything it uses is made.
};

}  // namespace crossrig::engine::service
