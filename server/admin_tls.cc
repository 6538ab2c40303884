#include "server/admin_tls.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/pem.h>
#include <openssl/x509.h>


#include "k8s/small_file.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace drover {
namespace {

absl::StatusOr<std::string> ReadPem(std::string_view flag, const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(flag, path, 1 << 20));
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(StrCat(flag, ": \"", CutForMessage(path), "\" is not PEM"));
  }
  return pem;
}

// The UTF-8 text of every `nid` entry of `name`.
std::vector<std::string> Entries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(name, nid, i)) {
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n >= 0) out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> AdminServerCredentials(const AdminTlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--admin-tls-cert and --admin-tls-key go together: give both, or neither");
  }
  if (files.cert.empty()) {
    if (!files.client_ca.empty()) return absl::InvalidArgumentError("--admin-client-ca needs --admin-tls-cert and --admin-tls-key");
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions opts;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPem("--admin-tls-cert", files.cert));
  ASSIGN_OR_RETURN(pair.private_key, ReadPem("--admin-tls-key", files.key));
  opts.pem_key_cert_pairs.push_back(std::move(pair));
  if (!files.client_ca.empty()) {
    ASSIGN_OR_RETURN(opts.pem_root_certs, ReadPem("--admin-client-ca", files.client_ca));
    // Requested, verified when presented, not required: bearer tokens still work over TLS.
    opts.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(opts);
}

absl::StatusOr<Principal> PrincipalFromCertificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (cert == nullptr) return absl::InvalidArgumentError("client certificate: not a PEM certificate");
  X509_NAME* subject = X509_get_subject_name(cert);
  std::vector<std::string> cn = Entries(subject, NID_commonName);
  Principal p{cn.empty() ? "" : cn.front(), Entries(subject, NID_organizationName), false};
  X509_free(cert);
  if (p.user.empty()) return absl::UnauthenticatedError("client certificate: the subject has no CN (the user name)");
  return p;
}

std::optional<Principal> PrincipalFromPeer(const grpc::AuthContext& auth) {
  if (!auth.IsPeerAuthenticated()) return std::nullopt;
  std::vector<grpc::string_ref> pem = auth.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pem.empty()) return std::nullopt;
  absl::StatusOr<Principal> p = PrincipalFromCertificate(std::string(pem.front().data(), pem.front().size()));
  if (!p.ok()) return std::nullopt;
  return *p;
}

}  // namespace drover
