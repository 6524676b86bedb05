#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "common/host_port.h"
#include "common/unique_fd.h"
#include "rig/console/boot_log.h"

namespace crossrig::rig::console {

/// How a multiplexer serves one board's console.
struct MuxConfig {
  std::string board;                      ///< Names the logs and the notices.
  HostPort upstream;                      ///< The console's TCP address (QEMU, ser2net).
  std::filesystem::path socket_path;      ///< The unix socket readers attach to.
  std::filesystem::path log_dir;          ///< Where each boot's log goes.
  bool raw_log = false;                   ///< Also keep the untouched bytes (BASE.raw).
  std::size_t backlog_max = 64 * 1024;    ///< Past output kept for readers asking for backlog.
  std::size_t reader_buffer = 256 * 1024;  ///< Unsent bytes a reader may lag before it is dropped.
  std::size_t max_readers = 64;           ///< Readers beyond this are turned away.
  std::chrono::milliseconds backoff_min{100};   ///< First wait before reconnecting.
  std::chrono::milliseconds backoff_max{5000};  ///< Longest wait between reconnect attempts.
};

/// Holds the one TCP connection to a board's console and shares it: every byte goes to a new
/// log per connection (BootLog) and to each attached reader; readers' input goes upstream.
/// Single-threaded poll loop; a slow reader is dropped, never waited for.
class Multiplexer {
 public:
  /// Binds the socket; throws std::runtime_error when another multiplexer serves it.
  explicit Multiplexer(MuxConfig config);
  ~Multiplexer();
  Multiplexer(const Multiplexer&) = delete;
  Multiplexer& operator=(const Multiplexer&) = delete;

  /// Serves until stop() is called.
  void run();
  /// Makes run() return soon; async-signal-safe and callable from any thread.
  void stop();

 private:
  struct Reader;
  using Clock = std::chrono::steady_clock;

  void start_connect();
  void finish_connect();
  void upstream_up();
  void upstream_lost(const std::string& why);
  void read_upstream();
  void flush_upstream();
  void accept_reader();
  void read_reader(Reader& r);
  void take_input(Reader& r, std::string_view bytes);
  void send(Reader& r, std::string_view bytes);
  void flush_reader(Reader& r);
  void drop_reader(Reader& r, const std::string& why);
  void broadcast(std::string_view bytes);
  int poll_timeout_ms() const;

  MuxConfig config_;
  UniqueFd listen_fd_;
  UniqueFd stop_read_, stop_write_;
  enum class Upstream { kDown, kConnecting, kUp } state_ = Upstream::kDown;
  UniqueFd upstream_;
  std::string upstream_name_;
  std::string to_upstream_;
  Clock::time_point next_attempt_;
  std::chrono::milliseconds backoff_;
  unsigned boot_ = 0;
  bool lost_reported_ = false;
  std::optional<BootLog> log_;
  std::string backlog_;
  std::list<std::unique_ptr<Reader>> readers_;
};

}  // namespace crossrig::rig::console
