// The webhook's serving certificate: made here (a self-signed CA and a serving
// certificate for the Service's DNS names, with OpenSSL) when droverd is given no
// files, or read from the files cert-manager mounts and renews in place.
//
//   ASSIGN_OR_RETURN(TlsPair pair, MakeServingPair({"drover-webhook.drover-system.svc"}, absl::Now(), 365));
//   ASSIGN_OR_RETURN(auto certs, ServingCert::FromFiles("/tls/tls.crt", "/tls/tls.key"));
//   SSL_CTX_set_cert_cb(ctx, ServingCert::SelectCallback, certs.get());   // re-read when the files change
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/sync.h"

namespace drover {

// PEM text of a serving certificate, its key and the CA that signed it.
struct TlsPair {
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;  // what the webhook configurations' caBundle carries
};

// A new P-256 CA (CN "drover-webhook-ca") and a serving certificate signed by it
// for `dns_names` (the first is the subject CN; all are SANs), valid from `now`
// minus an hour (clock skew) for `days`. Error: OpenSSL failed (message says where).
absl::StatusOr<TlsPair> MakeServingPair(const std::vector<std::string>& dns_names, absl::Time now, int days);

// A new P-256 CA (CN "drover-client-ca") and a client certificate signed by it
// (extended key usage clientAuth) with subject CN `cn` and one O per `orgs`, as
// Kubernetes reads a user and groups from a client certificate (the admin API's
// mutual TLS, tests). Error: OpenSSL failed.
absl::StatusOr<TlsPair> MakeClientPair(const std::string& cn, const std::vector<std::string>& orgs, absl::Time now,
                                       int days);

// When the pair's certificate expires; error if `cert_pem` is not a certificate.
absl::StatusOr<absl::Time> CertificateExpiry(const std::string& cert_pem);

// The certificate and key a TLS handshake uses. From files, they are re-read on a
// handshake at most once a second when their modification time or size changed
// (cert-manager renews them in place); a pair that does not load keeps the last good one.
class ServingCert {
 public:
  static absl::StatusOr<std::unique_ptr<ServingCert>> FromFiles(std::string cert_path, std::string key_path);
  static absl::StatusOr<std::unique_ptr<ServingCert>> FromPem(const TlsPair& pair);
  ~ServingCert();

  // For SSL_CTX_set_cert_cb: sets the current certificate and key on `ssl`; `arg` is a ServingCert*.
  static int SelectCallback(SSL* ssl, void* arg);
  // Serves `pair` from the next handshake on (the Secret mode's renewal; the
  // files mode reloads by itself). Error: the pair does not load; the old one stays.
  absl::Status Replace(const TlsPair& pair);
  // How many times a pair was installed (1 after FromFiles or FromPem).
  int loads() const;

 private:
  ServingCert() = default;
  absl::Status Load();   // from the files
  absl::Status Install(const std::string& cert_pem, const std::string& key_pem);
  void MaybeReload();

  std::string cert_path_, key_path_;
  mutable Mutex mu_;
  X509* cert_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::vector<X509*> chain_ ABSL_GUARDED_BY(mu_);  // intermediates after the leaf in the file
  EVP_PKEY* key_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string stamp_ ABSL_GUARDED_BY(mu_);  // mtime and size of both files
  absl::Time last_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int loads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace drover
