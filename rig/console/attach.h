#pragma once

#include "rig/console/detach_filter.h"

namespace crossrig::rig::console {

/// Why an attach session ended.
enum class AttachEnd {
  kDetached,       ///< The person typed the detach sequence.
  kInputClosed,    ///< Standard input reached its end (a script fed it).
  kConsoleClosed,  ///< The multiplexer or the console server closed the connection.
  kStopped,        ///< stop_fd became readable (a signal arrived).
};

/// Relays what is typed on in_fd (through the detach filter) to conn_fd and the console's
/// output to out_fd, until one of the AttachEnd reasons. stop_fd may be -1.
AttachEnd relay(int in_fd, int out_fd, int conn_fd, int stop_fd, DetachKeys keys);

}  // namespace crossrig::rig::console
