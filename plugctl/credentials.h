#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/klap_cipher.h"

namespace crossrig::plugctl {

/// What the user gave to log in to KLAP devices: a username and password, or a stored auth
/// hash (python-kasa's credentials_hash), or nothing.
struct Credentials {
  std::optional<std::string> username, password;
  /// The decoded credentials hash: 16 bytes for KLAP v1, 32 for v2.
  std::optional<Bytes> auth_hash;
};

/// One auth hash a KLAP device may hold, and where it came from (for messages).
struct AuthCandidate {
  KlapVersion version;
  Bytes auth_hash;
  std::string source;
};

/// The hashes to try in order: the given credentials as v2 then v1, blank credentials, then
/// python-kasa's known default credentials.
std::vector<AuthCandidate> auth_candidates(const Credentials& given);

/// The first candidate whose handshake1 hash is the one the device sent, if any.
std::optional<AuthCandidate> match_handshake1(const std::vector<AuthCandidate>& candidates,
                                              std::span<const std::uint8_t> local_seed,
                                              std::span<const std::uint8_t> remote_seed,
                                              std::span<const std::uint8_t> server_hash);

/// Bytes of standard base64 text (padding optional, whitespace refused); nullopt if invalid.
std::optional<Bytes> base64_decode(std::string_view text);

/// Standard base64 of bytes, with padding.
std::string base64_encode(std::span<const std::uint8_t> bytes);

/// Parses python-kasa's stored credentials hash; throws PlugError (kUsage) if it is not base64
/// of a 16- or 32-byte KLAP auth hash.
Bytes parse_credentials_hash(std::string_view text);

}  // namespace crossrig::plugctl
