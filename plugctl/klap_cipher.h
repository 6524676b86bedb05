#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crossrig::plugctl {

using Bytes = std::vector<std::uint8_t>;

/// The two ways KLAP firmware derives its credential hash.
enum class KlapVersion {
  kV1 = 1,  ///< md5(md5(username) ‖ md5(password)), older HS100-family firmware.
  kV2 = 2,  ///< sha256(sha1(username) ‖ sha1(password)), newer firmware.
};

/// The credential hash a device of this KLAP version expects.
Bytes klap_auth_hash(KlapVersion version, std::string_view username, std::string_view password);

/// What the device sends after the remote seed in its handshake1 answer.
Bytes klap_handshake1_hash(KlapVersion version, std::span<const std::uint8_t> local_seed,
                           std::span<const std::uint8_t> remote_seed,
                           std::span<const std::uint8_t> auth_hash);

/// What the client proves itself with in handshake2.
Bytes klap_handshake2_hash(KlapVersion version, std::span<const std::uint8_t> local_seed,
                           std::span<const std::uint8_t> remote_seed,
                           std::span<const std::uint8_t> auth_hash);

/// The symmetric session both sides derive after a handshake: AES-128-CBC with an IV made of a
/// 12-byte prefix and a signed big-endian sequence number, each message signed with SHA-256.
class KlapSession {
 public:
  KlapSession(std::span<const std::uint8_t> local_seed, std::span<const std::uint8_t> remote_seed,
              std::span<const std::uint8_t> auth_hash);

  /// Advances the client's sequence number and returns it.
  std::int32_t next_seq() {
    return seq_ = static_cast<std::int32_t>(static_cast<std::uint32_t>(seq_) + 1);
  }
  std::int32_t seq() const { return seq_; }

  /// Signature (32 bytes) followed by the ciphertext of plain under seq.
  Bytes encrypt(std::string_view plain, std::int32_t seq) const;

  /// The plaintext of a signed message under seq; nullopt if the signature or padding is wrong.
  std::optional<std::string> decrypt(std::span<const std::uint8_t> body, std::int32_t seq) const;

  const std::array<std::uint8_t, 16>& key() const { return key_; }
  const std::array<std::uint8_t, 12>& iv_prefix() const { return iv_prefix_; }
  const std::array<std::uint8_t, 28>& sig_prefix() const { return sig_; }
  /// The full 16-byte IV used for seq.
  std::array<std::uint8_t, 16> iv(std::int32_t seq) const;

 private:
  std::array<std::uint8_t, 32> signature(std::int32_t seq,
                                         std::span<const std::uint8_t> cipher) const;

  std::array<std::uint8_t, 16> key_{};
  std::array<std::uint8_t, 12> iv_prefix_{};
  std::array<std::uint8_t, 28> sig_{};
  std::int32_t seq_ = 0;
};

/// Cryptographically random bytes (a handshake seed).
Bytes random_bytes(std::size_t n);

}  // namespace crossrig::plugctl
