#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/host_port.h"
#include "rig/tftp/tftp_packet.h"

namespace crossrig::rig::tftp {

/// What a fetch asks the server for; 0 leaves an option out of the request.
struct FetchOptions {
  std::uint16_t blksize = 0;
  std::uint16_t windowsize = 0;
  bool tsize = false;
  std::string mode = "octet";
  std::chrono::milliseconds timeout{1000};  ///< Wait for a packet before resending.
  int retries = 5;
  bool keep_data = true;  ///< False only counts bytes (benchmarks).
  int receive_buffer = 4 << 20;
};

/// The outcome of one fetch.
struct FetchResult {
  bool ok = false;
  std::string error;                        ///< Why it failed (server's ERROR text or timeout).
  ErrorCode code = ErrorCode::kNotDefined;  ///< The server's error code, if it sent one.
  std::vector<Option> oack;                 ///< Options the server accepted.
  std::vector<std::uint8_t> data;
  std::uint64_t bytes = 0;
};

/// Downloads file from a TFTP server (RFC 1350 with blksize, tsize and windowsize), acking
/// each window and re-acking the last in-order block on a gap. Used by tests and benchmarks.
FetchResult fetch(const crossrig::SocketAddress& server, const std::string& file,
                  const FetchOptions& options);

}  // namespace crossrig::rig::tftp
