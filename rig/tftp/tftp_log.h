#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rig/tftp/tftp_packet.h"

namespace crossrig::rig::tftp {

/// What one finished transfer did, for its log line.
struct TransferRecord {
  std::string client;           ///< "10.0.0.5:2070".
  std::string file;             ///< The name the client asked for.
  std::string path;             ///< What was opened, relative to the root (after mapping).
  std::vector<Option> options;  ///< Options accepted (as sent in the OACK).
  std::uint64_t bytes = 0;      ///< Bytes the client acknowledged.
  double seconds = 0;
  std::uint64_t retransmits = 0;
  bool ok = false;
  std::string error;  ///< Why it failed; empty when ok.
};

/// Megabytes (10^6 bytes) per second of a record.
double megabytes_per_second(const TransferRecord& r);
/// One human-readable log line (no newline).
std::string format_text(const TransferRecord& r);
/// One JSON object on one line (no newline), with "event":"transfer".
std::string format_json(const TransferRecord& r);

}  // namespace crossrig::rig::tftp
