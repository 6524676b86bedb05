#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {

namespace {
constexpr std::uint8_t kInitialKey = 171;
}

std::vector<std::uint8_t> xor_encrypt(std::string_view plain) {
  std::vector<std::uint8_t> out(plain.size());
  std::uint8_t key = kInitialKey;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    key = static_cast<std::uint8_t>(key ^ static_cast<std::uint8_t>(plain[i]));
    out[i] = key;
  }
  return out;
}

std::string xor_decrypt(std::span<const std::uint8_t> cipher) {
  std::string out(cipher.size(), '\0');
  std::uint8_t key = kInitialKey;
  for (std::size_t i = 0; i < cipher.size(); ++i) {
    out[i] = static_cast<char>(key ^ cipher[i]);
    key = cipher[i];
  }
  return out;
}

std::vector<std::uint8_t> xor_frame(std::string_view plain) {
  auto n = static_cast<std::uint32_t>(plain.size());
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(n >> 24),
                                static_cast<std::uint8_t>(n >> 16),
                                static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  auto body = xor_encrypt(plain);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::uint32_t xor_frame_length(std::span<const std::uint8_t, 4> p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

}  // namespace crossrig::plugctl
