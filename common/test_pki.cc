#include "common/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>

namespace crossrig::test_pki {

namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

EVP_PKEY* new_key() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  check(key != nullptr, "EC key generation");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr && X509_add_ext(cert, ext, -1) == 1, "adding an extension");
  X509_EXTENSION_free(ext);
}

// A certificate for cn with key's public half; issuer signs it (itself when null).
X509* make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                int from_days, int until_days) {
  static long serial = 1;
  X509* cert = X509_new();
  check(cert != nullptr, "X509_new");
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), static_cast<long>(from_days) * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(until_days) * 86400);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert, key);
  if (issuer == nullptr) {
    add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(cert, cert, NID_subject_key_identifier, "hash");
  } else {
    add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
    add_ext(cert, issuer, NID_authority_key_identifier, "keyid");
  }
  check(X509_sign(cert, issuer_key, EVP_sha256()) > 0, "signing");
  return cert;
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "opening a PEM file");
  const bool ok = cert ? PEM_write_X509(f, cert) == 1
                       : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  check(std::fclose(f) == 0 && ok, "writing a PEM file");
}

}  // namespace

Ca::Ca(std::filesystem::path dir, std::string name)
    : dir_(std::move(dir)), name_(std::move(name)), cacert_((dir_ / (name_ + "-ca.pem")).string()) {
  key_ = new_key();
  cert_ = make_cert(name_, key_, nullptr, key_, -1, 365);
  write_pem(cacert_, cert_, nullptr);
}

Ca::~Ca() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
}

TlsConfig Ca::issue(const std::string& cn, int from_days, int until_days) const {
  EVP_PKEY* key = new_key();
  X509* cert = make_cert(cn, key, cert_, key_, from_days, until_days);
  TlsConfig config{cacert_, (dir_ / (cn + ".pem")).string(), (dir_ / (cn + "-key.pem")).string()};
  write_pem(config.cert, cert, nullptr);
  write_pem(config.key, nullptr, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return config;
}

}  // namespace crossrig::test_pki
