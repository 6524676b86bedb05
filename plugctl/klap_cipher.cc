#include "plugctl/klap_cipher.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace crossrig::plugctl {

namespace {

Bytes digest(const EVP_MD* md, std::initializer_list<std::span<const std::uint8_t>> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    throw std::runtime_error("OpenSSL digest initialisation failed");
  }
  for (auto part : parts)
    EVP_DigestUpdate(ctx.get(), part.data(), part.size());
  EVP_DigestFinal_ex(ctx.get(), out.data(), &len);
  return out;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::array<std::uint8_t, 4> seq_bytes(std::int32_t seq) {
  auto u = static_cast<std::uint32_t>(seq);
  return {static_cast<std::uint8_t>(u >> 24), static_cast<std::uint8_t>(u >> 16),
          static_cast<std::uint8_t>(u >> 8), static_cast<std::uint8_t>(u)};
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

Bytes klap_auth_hash(KlapVersion version, std::string_view username, std::string_view password) {
  if (version == KlapVersion::kV1) {
    Bytes u = digest(EVP_md5(), {bytes_of(username)});
    Bytes p = digest(EVP_md5(), {bytes_of(password)});
    return digest(EVP_md5(), {u, p});
  }
  Bytes u = digest(EVP_sha1(), {bytes_of(username)});
  Bytes p = digest(EVP_sha1(), {bytes_of(password)});
  return digest(EVP_sha256(), {u, p});
}

Bytes klap_handshake1_hash(KlapVersion version, std::span<const std::uint8_t> local_seed,
                           std::span<const std::uint8_t> remote_seed,
                           std::span<const std::uint8_t> auth_hash) {
  if (version == KlapVersion::kV1) return digest(EVP_sha256(), {local_seed, auth_hash});
  return digest(EVP_sha256(), {local_seed, remote_seed, auth_hash});
}

Bytes klap_handshake2_hash(KlapVersion version, std::span<const std::uint8_t> local_seed,
                           std::span<const std::uint8_t> remote_seed,
                           std::span<const std::uint8_t> auth_hash) {
  if (version == KlapVersion::kV1) return digest(EVP_sha256(), {remote_seed, auth_hash});
  return digest(EVP_sha256(), {remote_seed, local_seed, auth_hash});
}

KlapSession::KlapSession(std::span<const std::uint8_t> local_seed,
                         std::span<const std::uint8_t> remote_seed,
                         std::span<const std::uint8_t> auth_hash) {
  static constexpr std::string_view kKeyLabel = "lsk", kIvLabel = "iv", kSigLabel = "ldk";
  Bytes key = digest(EVP_sha256(), {bytes_of(kKeyLabel), local_seed, remote_seed, auth_hash});
  Bytes iv = digest(EVP_sha256(), {bytes_of(kIvLabel), local_seed, remote_seed, auth_hash});
  Bytes sig = digest(EVP_sha256(), {bytes_of(kSigLabel), local_seed, remote_seed, auth_hash});
  std::copy_n(key.begin(), key_.size(), key_.begin());
  std::copy_n(iv.begin(), iv_prefix_.size(), iv_prefix_.begin());
  std::copy_n(sig.begin(), sig_.size(), sig_.begin());
  seq_ = static_cast<std::int32_t>(std::uint32_t{iv[28]} << 24 | std::uint32_t{iv[29]} << 16 |
                                   std::uint32_t{iv[30]} << 8 | std::uint32_t{iv[31]});
}

std::array<std::uint8_t, 16> KlapSession::iv(std::int32_t seq) const {
  std::array<std::uint8_t, 16> out{};
  std::copy(iv_prefix_.begin(), iv_prefix_.end(), out.begin());
  auto s = seq_bytes(seq);
  std::copy(s.begin(), s.end(), out.begin() + 12);
  return out;
}

std::array<std::uint8_t, 32> KlapSession::signature(std::int32_t seq,
                                                    std::span<const std::uint8_t> cipher) const {
  auto s = seq_bytes(seq);
  Bytes d = digest(EVP_sha256(), {sig_, s, cipher});
  std::array<std::uint8_t, 32> out{};
  std::copy(d.begin(), d.end(), out.begin());
  return out;
}

Bytes KlapSession::encrypt(std::string_view plain, std::int32_t seq) const {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  auto ivb = iv(seq);
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, key_.data(), ivb.data()) != 1) {
    throw std::runtime_error("OpenSSL AES initialisation failed");
  }
  Bytes cipher(plain.size() + 16);
  int n1 = 0, n2 = 0;
  EVP_EncryptUpdate(ctx.get(), cipher.data(), &n1, bytes_of(plain).data(),
                    static_cast<int>(plain.size()));
  EVP_EncryptFinal_ex(ctx.get(), cipher.data() + n1, &n2);
  cipher.resize(static_cast<std::size_t>(n1 + n2));
  auto sig = signature(seq, cipher);
  Bytes out(sig.size() + cipher.size());
  std::copy(sig.begin(), sig.end(), out.begin());
  std::copy(cipher.begin(), cipher.end(), out.begin() + static_cast<std::ptrdiff_t>(sig.size()));
  return out;
}

std::optional<std::string> KlapSession::decrypt(std::span<const std::uint8_t> body,
                                                std::int32_t seq) const {
  if (body.size() < 32 + 16 || (body.size() - 32) % 16 != 0) return std::nullopt;
  auto cipher = body.subspan(32);
  auto expected = signature(seq, cipher);
  if (!std::equal(expected.begin(), expected.end(), body.begin())) return std::nullopt;
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  auto ivb = iv(seq);
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, key_.data(), ivb.data()) != 1) {
    throw std::runtime_error("OpenSSL AES initialisation failed");
  }
  std::string plain(cipher.size(), '\0');
  int n1 = 0, n2 = 0;
  auto* out = reinterpret_cast<std::uint8_t*>(plain.data());
  EVP_DecryptUpdate(ctx.get(), out, &n1, cipher.data(), static_cast<int>(cipher.size()));
  if (EVP_DecryptFinal_ex(ctx.get(), out + n1, &n2) != 1) return std::nullopt;
  plain.resize(static_cast<std::size_t>(n1 + n2));
  return plain;
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    throw std::runtime_error("OpenSSL could not produce random bytes");
  }
  return out;
}

}  // namespace crossrig::plugctl
