#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "plugctl/klap_cipher.h"

namespace crossrig::plugctl::testing {

/// A TCP server on 127.0.0.1 (random port) for tests: each accepted connection is handed to
/// a handler on the server thread, one at a time. The destructor stops and joins the thread.
class LoopbackPeer {
 public:
  /// handler gets the connection; it returns when done with it (the connection is closed then).
  using Handler = std::function<void(int fd, const LoopbackPeer& peer)>;
  explicit LoopbackPeer(Handler handler);
  ~LoopbackPeer();
  LoopbackPeer(const LoopbackPeer&) = delete;
  LoopbackPeer& operator=(const LoopbackPeer&) = delete;

  std::uint16_t port() const { return port_; }
  /// "127.0.0.1:port".
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// Blocks until fd is readable or the peer is stopping; false when stopping.
  bool wait_readable(int fd) const;
  /// Reads what is available; 0 on EOF or when stopping.
  std::size_t read_some(int fd, std::string& into) const;
  /// Reads one XOR TCP frame; nullopt on EOF, stop or a bad frame.
  std::optional<std::string> read_xor_request(int fd) const;
  /// Writes all bytes (ignoring a peer that went away).
  static void write_all(int fd, std::string_view bytes);
  /// Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  void serve();

  Handler handler_;
  UniqueFd listen_fd_;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::thread thread_;
};

/// A UDP server on 127.0.0.1 (random port) answering each datagram with answer(datagram)
/// unless that is empty.
class UdpResponder {
 public:
  using Answer = std::function<std::vector<std::uint8_t>(std::span<const std::uint8_t>)>;
  explicit UdpResponder(Answer answer);
  ~UdpResponder();
  UdpResponder(const UdpResponder&) = delete;
  UdpResponder& operator=(const UdpResponder&) = delete;
  std::uint16_t port() const { return port_; }
  /// Datagrams received so far.
  int received() const { return received_.load(); }

 private:
  Answer answer_;
  UniqueFd fd_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> received_{0};
  std::thread thread_;
};

/// The XOR frame bytes of plain as a device sends them.
std::string xor_reply_frame(std::string_view plain);

/// A handler that answers every XOR request on a connection with answer(request JSON) and
/// records the requests.
struct XorDevice {
  explicit XorDevice(std::function<nlohmann::json(const nlohmann::json&)> a)
      : answer(std::move(a)) {}
  std::function<nlohmann::json(const nlohmann::json&)> answer;
  std::mutex mutex;
  std::vector<nlohmann::json> requests;
  void operator()(int fd, const LoopbackPeer& peer);
};

/// A KLAP device over HTTP holding one auth hash (v1 or v2); answers requests with answer().
struct KlapDevice {
  KlapDevice(KlapVersion v, Bytes hash, std::function<nlohmann::json(const nlohmann::json&)> a)
      : version(v), auth_hash(std::move(hash)), answer(std::move(a)) {}
  KlapVersion version;
  Bytes auth_hash;
  std::function<nlohmann::json(const nlohmann::json&)> answer;
  /// Forget all sessions after this many answered requests, as a device whose session
  /// expired does (it then answers 403); -1 for never.
  int forget_sessions_after = -1;
  int answered = 0;
  std::mutex mutex;
  int handshakes = 0;
  std::map<std::string, std::pair<Bytes, Bytes>> seeds;  // local, remote; by cookie
  std::map<std::string, KlapSession> sessions;           // after handshake2; by cookie
  void operator()(int fd, const LoopbackPeer& peer);
};

}  // namespace crossrig::plugctl::testing
