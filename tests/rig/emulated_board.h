// A board emulated for the rig CLI tests: its power is the inventory's command driver on a relay
// file, and its console a loopback TCP peer that plays a boot script at each power-on.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "plugctl/loopback_peer.h"

namespace crossrig::rig::testing {

// In a boot script: the console server drops the connection here.
inline const std::string kHangUp = "<hang up>";

/// The emulated board: plays boots[n] on the console at its n-th power-on (the last one again
// after the list ends).
class EmulatedBoard {
 public:
  EmulatedBoard(std::string relay, std::vector<std::vector<std::string>> boots)
      : relay_(std::move(relay)),
        boots_(std::move(boots)),
        played_(ons_logged()),
        console_([this](int fd, const auto&) { serve(fd); }) {}
  ~EmulatedBoard() { stop_ = true; }

  std::string console() const { return console_.address(); }
  int power_ons() const { return power_ons_.load(); }

 private:
  // Power-ons are counted from the on command's log, not by sampling the relay: with off_time
  // 0 an off-on cycle can be shorter than any sampling interval on a loaded machine.
  int ons_logged() const {
    std::ifstream in(relay_ + ".ons");
    int n = 0;
    for (std::string line; std::getline(in, line);)
      ++n;
    return n;
  }

  // Power-ons are counted from the board's creation, not from the console's connection: under
  // load, rig may connect and switch the board on before this side has accepted.
  void serve(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 10) > 0) {
        char buf[256];
        if (read(fd, buf, sizeof buf) <= 0) return;
      }
      const int now = ons_logged();
      if (now == played_) continue;
      played_ = now;
      int n = power_ons_++;
      const auto& boot = boots_[std::min<std::size_t>(n, boots_.size() - 1)];
      for (const auto& line : boot) {
        if (line == kHangUp) return;
        crossrig::plugctl::testing::LoopbackPeer::write_all(fd, line + "\r\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }

  std::string relay_;
  std::vector<std::vector<std::string>> boots_;
  std::atomic<bool> stop_{false};
  std::atomic<int> power_ons_{0};
  std::atomic<int> played_;  ///< Power-ons logged when the last boot was played.
  crossrig::plugctl::testing::LoopbackPeer console_;
};

}  // namespace crossrig::rig::testing
