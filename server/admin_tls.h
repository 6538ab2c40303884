// Mutual TLS for the admin API (--admin-tls-cert, --admin-tls-key, --admin-client-ca).
//
//   ASSIGN_OR_RETURN(auto creds, AdminServerCredentials(files));    // TLS, client certificates optional
//   std::optional<Principal> p = PrincipalFromPeer(*ctx->auth_context());
//
// With a client CA, a client certificate is requested and, when presented, verified
// against it (the handshake fails on one that does not verify); callers without one
// still authenticate with a bearer token. As Kubernetes does, a verified client
// certificate's subject CN is the user and each O a group.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/admin_auth.h"

namespace grpc {
class AuthContext;
class ServerCredentials;
}  // namespace grpc

namespace drover {

struct AdminTlsFiles {
  std::string cert;       // --admin-tls-cert: PEM certificate chain; "" = plaintext
  std::string key;        // --admin-tls-key
  std::string client_ca;  // --admin-client-ca: PEM CA bundle; "" = no client certificates
};

// Plaintext credentials without a cert; else TLS from the files. Error: a file
// missing or not PEM (naming the flag and the path), cert without key.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> AdminServerCredentials(const AdminTlsFiles& files);

// The user (CN) and groups (each O) of a PEM certificate. Error: not a
// certificate, or no CN.
absl::StatusOr<Principal> PrincipalFromCertificate(const std::string& pem);

// The principal of a verified client certificate on this call; nullopt without one.
std::optional<Principal> PrincipalFromPeer(const grpc::AuthContext& auth);

}  // namespace drover
