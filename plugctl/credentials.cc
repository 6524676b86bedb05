#include "plugctl/credentials.h"

#include <algorithm>
#include <array>

#include "plugctl/errors.h"

namespace crossrig::plugctl {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// python-kasa's DEFAULT_CREDENTIALS: the accounts devices accept before they are bound to a
// cloud account (KASA setup, then TAPO).
struct DefaultAccount {
  std::string_view name, username, password;
};
constexpr std::array<DefaultAccount, 2> kDefaultAccounts{{
    {"python-kasa's default KASA credentials", "kasa@tp-link.net", "kasaSetup"},
    {"python-kasa's default TAPO credentials", "test@tp-link.net", "test"},
}};

void add_both_versions(std::vector<AuthCandidate>& out, std::string_view user,
                       std::string_view password, const std::string& source) {
  out.push_back({KlapVersion::kV2, klap_auth_hash(KlapVersion::kV2, user, password), source});
  out.push_back({KlapVersion::kV1, klap_auth_hash(KlapVersion::kV1, user, password), source});
}

}  // namespace

std::vector<AuthCandidate> auth_candidates(const Credentials& given) {
  std::vector<AuthCandidate> out;
  if (given.auth_hash) {
    KlapVersion v = given.auth_hash->size() == 16 ? KlapVersion::kV1 : KlapVersion::kV2;
    out.push_back({v, *given.auth_hash, "the given credentials hash"});
  }
  if (given.username || given.password) {
    add_both_versions(out, given.username.value_or(""), given.password.value_or(""),
                      "the given username and password");
  }
  add_both_versions(out, "", "", "blank credentials");
  for (const auto& account : kDefaultAccounts) {
    add_both_versions(out, account.username, account.password, std::string(account.name));
  }
  return out;
}

std::optional<AuthCandidate> match_handshake1(const std::vector<AuthCandidate>& candidates,
                                              std::span<const std::uint8_t> local_seed,
                                              std::span<const std::uint8_t> remote_seed,
                                              std::span<const std::uint8_t> server_hash) {
  for (const auto& c : candidates) {
    Bytes expected = klap_handshake1_hash(c.version, local_seed, remote_seed, c.auth_hash);
    if (std::equal(expected.begin(), expected.end(), server_hash.begin(), server_hash.end())) {
      return c;
    }
  }
  return std::nullopt;
}

std::optional<Bytes> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=')
    text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  Bytes out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    auto pos = kAlphabet.find(ch);
    if (pos == std::string_view::npos) return std::nullopt;
    acc = acc << 6 | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v =
        std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6)
      out += kAlphabet[(v >> s) & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) v |= std::uint32_t{bytes[i + 1]} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Bytes parse_credentials_hash(std::string_view text) {
  auto bytes = base64_decode(text);
  if (!bytes || (bytes->size() != 16 && bytes->size() != 32)) {
    throw PlugError(PlugError::kUsage,
                    "--credentials-hash is not base64 of a 16-byte (KLAP v1) or 32-byte (KLAP "
                    "v2) auth hash; copy it from python-kasa's stored device config");
  }
  return *bytes;
}

}  // namespace crossrig::plugctl
