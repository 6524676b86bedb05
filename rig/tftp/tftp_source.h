#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/unique_fd.h"
#include "rig/tftp/tftp_packet.h"

namespace crossrig::rig::tftp {

/// Why a file cannot be served, as the ERROR packet tells the client.
struct SourceError {
  ErrorCode code = ErrorCode::kNotDefined;
  std::string message;
};

/// Largest file served in netascii mode, which is converted in memory.
inline constexpr std::uint64_t kMaxNetasciiSize = 64ull << 20;

/// Converts bytes to netascii (RFC 764): LF becomes CR LF and a lone CR becomes CR NUL.
std::vector<std::uint8_t> to_netascii(std::span<const std::uint8_t> bytes);

/// The bytes one transfer serves: a regular file opened beneath the root (symlinks may not
/// leave it), read with pread; in netascii mode, its converted copy in memory.
class Source {
 public:
  /// Opens relative (already confined) beneath root_fd.
  static std::variant<Source, SourceError> open(int root_fd, const std::string& relative,
                                                bool netascii);
  std::uint64_t size() const { return size_; }
  /// Fills out from offset; false when the file shrank or cannot be read.
  bool read(std::uint64_t offset, std::span<std::uint8_t> out) const;

 private:
  crossrig::UniqueFd fd_;
  std::uint64_t size_ = 0;
  std::vector<std::uint8_t> converted_;
  bool netascii_ = false;
};

}  // namespace crossrig::rig::tftp
