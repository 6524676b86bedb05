#pragma once
// Certificates for tests of TLS: a CA made on the spot and certificates it signs, written as
// PEM files, so that tests need neither the openssl command nor fixtures that expire.

#include <filesystem>
#include <memory>
#include <string>

#include "common/tls.h"

struct evp_pkey_st;
struct x509_st;

namespace crossrig::test_pki {

/// A certificate authority whose files live in a directory of the test's.
class Ca {
 public:
  /// Makes the CA's key and self-signed certificate, writing dir/NAME-ca.pem.
  Ca(std::filesystem::path dir, std::string name);
  ~Ca();
  Ca(const Ca&) = delete;
  Ca& operator=(const Ca&) = delete;

  /// Path of the CA certificate (for --tls-cacert).
  const std::string& cacert() const { return cacert_; }
  /// A key and a certificate for common name cn signed by this CA, valid from now plus
  /// from_days to now plus until_days (negative: in the past), written as dir/CN.pem and
  /// dir/CN-key.pem; returns a config that trusts this CA.
  TlsConfig issue(const std::string& cn, int from_days = -1, int until_days = 30) const;

 private:
  std::filesystem::path dir_;
  std::string name_, cacert_;
  evp_pkey_st* key_ = nullptr;
  x509_st* cert_ = nullptr;
};

}  // namespace crossrig::test_pki
