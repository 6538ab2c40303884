#include "server/webhook_tls.h"

#include <sys/stat.h>


#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "k8s/small_file.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace drover {
namespace {

std::string OpensslError(std::string_view where) {
  const unsigned long e = ERR_get_error();
  char buf[256] = {0};
  if (e != 0) ERR_error_string_n(e, buf, sizeof(buf));
  return StrCat("webhook certificate: ", where, ": ", e != 0 ? buf : "failed");
}

struct Freer {
  void operator()(X509* x) const { X509_free(x); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, Freer>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Freer>;
using BioPtr = std::unique_ptr<BIO, Freer>;

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, signed by `issuer_key` (issuer null: self-signed);
// a leaf is for serving `dns` or, with `client`, a client certificate with `orgs` as O.
absl::StatusOr<X509Ptr> MakeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                                 absl::Time now, int days, bool ca, const std::vector<std::string>& dns,
                                 bool client = false, const std::vector<std::string>& orgs = {}) {
  X509Ptr cert(X509_new());
  unsigned char serial[16];
  if (!cert || RAND_bytes(serial, sizeof(serial)) != 1) return absl::InternalError(OpensslError("X509_new"));
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_version(cert.get(), 2);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(now - absl::Hours(1)));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(now + absl::Hours(24) * days));
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const std::string& o : orgs) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  bool ok = AddExt(cert.get(), signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
            AddExt(cert.get(), signer, NID_key_usage,
                   ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment") &&
            AddExt(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (ok && client) {
    ok = AddExt(cert.get(), signer, NID_ext_key_usage, "clientAuth");
  } else if (ok && !ca) {
    std::string san;
    for (const std::string& d : dns) StrAppend(&san, san.empty() ? "" : ",", "DNS:", d);
    ok = AddExt(cert.get(), signer, NID_ext_key_usage, "serverAuth") &&
         AddExt(cert.get(), signer, NID_subject_alt_name, san);
  }
  if (!ok) return absl::InternalError(OpensslError("extensions"));
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    return absl::InternalError(OpensslError("X509_sign"));
  }
  return cert;
}

std::string Pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string Pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string Stamp(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "missing";
  return StrCat(st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":", st.st_size);
}

}  // namespace

absl::StatusOr<TlsPair> MakeServingPair(const std::vector<std::string>& dns_names, absl::Time now, int days) {
  if (dns_names.empty()) return absl::InvalidArgumentError("webhook certificate: no DNS name");
  KeyPtr ca_key(EVP_EC_gen("P-256"));
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!ca_key || !key) return absl::InternalError(OpensslError("EVP_EC_gen"));
  absl::StatusOr<X509Ptr> ca = MakeCert(ca_key.get(), "drover-webhook-ca", nullptr, nullptr, now, days, true, {});
  if (!ca.ok()) return ca.status();
  absl::StatusOr<X509Ptr> cert = MakeCert(key.get(), dns_names[0], ca->get(), ca_key.get(), now, days, false, dns_names);
  if (!cert.ok()) return cert.status();
  return TlsPair{Pem(cert->get()), Pem(key.get()), Pem(ca->get())};
}

absl::StatusOr<TlsPair> MakeClientPair(const std::string& cn, const std::vector<std::string>& orgs, absl::Time now,
                                       int days) {
  KeyPtr ca_key(EVP_EC_gen("P-256"));
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!ca_key || !key) return absl::InternalError(OpensslError("EVP_EC_gen"));
  absl::StatusOr<X509Ptr> ca = MakeCert(ca_key.get(), "drover-client-ca", nullptr, nullptr, now, days, true, {});
  if (!ca.ok()) return ca.status();
  absl::StatusOr<X509Ptr> cert = MakeCert(key.get(), cn, ca->get(), ca_key.get(), now, days, false, {}, true, orgs);
  if (!cert.ok()) return cert.status();
  return TlsPair{Pem(cert->get()), Pem(key.get()), Pem(ca->get())};
}

absl::StatusOr<absl::Time> CertificateExpiry(const std::string& cert_pem) {
  BioPtr bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError(OpensslError("not a PEM certificate"));
  struct tm t {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &t) != 1) return absl::InvalidArgumentError("bad notAfter");
  return absl::FromTimeT(timegm(&t));
}

absl::StatusOr<std::unique_ptr<ServingCert>> ServingCert::FromFiles(std::string cert_path, std::string key_path) {
  std::unique_ptr<ServingCert> c(new ServingCert());
  c->cert_path_ = std::move(cert_path);
  c->key_path_ = std::move(key_path);
  if (absl::Status s = c->Load(); !s.ok()) return s;
  return c;
}

absl::StatusOr<std::unique_ptr<ServingCert>> ServingCert::FromPem(const TlsPair& pair) {
  std::unique_ptr<ServingCert> c(new ServingCert());
  if (absl::Status s = c->Install(pair.cert_pem, pair.key_pem); !s.ok()) return s;
  return c;
}

ServingCert::~ServingCert() {
  MutexLock l(&mu_);
  X509_free(cert_);
  EVP_PKEY_free(key_);
  for (X509* x : chain_) X509_free(x);
}

absl::Status ServingCert::Install(const std::string& cert_pem, const std::string& key_pem) {
  BioPtr cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError(OpensslError(StrCat(cert_path_, ": no PEM certificate")));
  std::vector<X509*> chain;
  while (X509* more = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) chain.push_back(more);
  ERR_clear_error();
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key || X509_check_private_key(cert.get(), key.get()) != 1) {
    for (X509* x : chain) X509_free(x);
    return absl::InvalidArgumentError(OpensslError(StrCat(key_path_, ": no private key matching the certificate")));
  }
  MutexLock l(&mu_);
  X509_free(cert_);
  EVP_PKEY_free(key_);
  for (X509* x : chain_) X509_free(x);
  cert_ = cert.release();
  key_ = key.release();
  chain_ = std::move(chain);
  ++loads_;
  return absl::OkStatus();
}

absl::Status ServingCert::Load() {
  const std::string stamp = Stamp(cert_path_) + "|" + Stamp(key_path_);
  absl::StatusOr<std::string> cert = ReadSmallFile("--webhook-tls-cert", cert_path_, 1 << 20);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadSmallFile("--webhook-tls-key", key_path_, 1 << 20);
  if (!key.ok()) return key.status();
  if (absl::Status s = Install(*cert, *key); !s.ok()) return s;
  MutexLock l(&mu_);
  stamp_ = stamp;
  return absl::OkStatus();
}

void ServingCert::MaybeReload() {
  if (cert_path_.empty()) return;
  {
    MutexLock l(&mu_);
    const absl::Time now = absl::Now();
    if (now - last_check_ < absl::Seconds(1)) return;
    last_check_ = now;
    if (Stamp(cert_path_) + "|" + Stamp(key_path_) == stamp_) return;
  }
  (void)Load();  // a half-written or bad pair keeps the last good one; retried on a later handshake
}

int ServingCert::SelectCallback(SSL* ssl, void* arg) {
  auto* self = static_cast<ServingCert*>(arg);
  self->MaybeReload();
  MutexLock l(&self->mu_);
  if (self->cert_ == nullptr || SSL_use_certificate(ssl, self->cert_) != 1 ||
      SSL_use_PrivateKey(ssl, self->key_) != 1) {
    return 0;
  }
  for (X509* x : self->chain_) SSL_add1_chain_cert(ssl, x);
  return 1;
}

absl::Status ServingCert::Replace(const TlsPair& pair) { return Install(pair.cert_pem, pair.key_pem); }

int ServingCert::loads() const {
  MutexLock l(&mu_);
  return loads_;
}

}  // namespace drover
