#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"

namespace crossrig::rig::console::testing {

/// A board's serial console as QEMU serves it (-serial tcp:127.0.0.1:PORT,server=on): a TCP
/// server on loopback that plays back recorded boots, one per connection, in uneven chunks
/// with small delays. A boot can be cut short: the peer then closes the connection and stops
/// listening for a while, as QEMU does when the board is power-cycled. Records all input.
class PlaybackPeer {
 public:
  /// One boot: the bytes the board prints, and where a power cut interrupts them.
  struct Boot {
    std::string bytes;
    std::optional<std::size_t> cut_at;
  };
  /// Boots are played in order; after a cut the port is closed for down_for.
  PlaybackPeer(std::vector<Boot> boots, std::chrono::milliseconds down_for, bool gated = false);
  ~PlaybackPeer();
  PlaybackPeer(const PlaybackPeer&) = delete;
  PlaybackPeer& operator=(const PlaybackPeer&) = delete;

  /// "127.0.0.1:PORT".
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// A gated peer accepts connections but prints nothing until release().
  void release();
  /// Queues bytes for the board to print after its boots (e.g. a flood of output).
  void print(const std::string& bytes);
  /// Connections accepted so far.
  int connections() const { return connections_.load(); }
  /// True once every boot has been played in full.
  bool finished() const { return finished_.load(); }
  /// Everything received from clients so far.
  std::string input() const;
  /// Waits until input() contains text; false after the timeout.
  bool wait_input(const std::string& text, std::chrono::milliseconds timeout) const;

  /// Console text with every newline sent as CR LF, as a serial console prints it.
  static std::string crlf(const std::string& text);

 private:
  void serve();
  UniqueFd listen_on_port();
  bool play(int fd, const std::string& bytes, std::size_t upto);
  bool drain_input(int fd);  // false when the client closed

  std::vector<Boot> boots_;
  std::chrono::milliseconds down_for_;
  std::uint16_t port_ = 0;
  UniqueFd listen_fd_;
  std::atomic<bool> stop_{false}, finished_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool released_;
  std::string input_;
  std::string to_print_;
  std::thread thread_;
};

}  // namespace crossrig::rig::console::testing
