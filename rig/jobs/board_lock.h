#pragma once

#include <chrono>
#include <string>

#include "common/unique_fd.h"

namespace crossrig::rig {

/// Where per-board lock files live: $RIG_LOCK_DIR, else $XDG_RUNTIME_DIR/rig/locks, else
/// /run/rig/locks.
std::string lock_dir();

/// Exclusive use of a board by one job: flock on LOCK_DIR/BOARD.lock, released when destroyed
/// (or when the process dies). The holder writes its pid and job directory into the file so a
/// waiting job can say who has the board.
class BoardLock {
 public:
  /// Takes the lock, waiting up to `wait` (zero: not at all). Throws std::runtime_error
  /// naming the board and the holder when it stays taken.
  BoardLock(const std::string& board, const std::string& holder, std::chrono::milliseconds wait);

 private:
  crossrig::UniqueFd fd_;
};

}  // namespace crossrig::rig
