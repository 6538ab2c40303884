// droverctl's channel credentials: plaintext, or TLS verified against --cacert,
// with a client certificate (--cert, --key) for droverd's --admin-client-ca.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class ChannelCredentials;
}

namespace drover {

struct ClientTlsFiles {
  std::string cacert;  // CA bundle that signed droverd's --admin-tls-cert; "" with no cert/key: plaintext
  std::string cert;    // client certificate (PEM): its CN is the user, each O a group
  std::string key;     // its private key
};

// Plaintext when no file is given, else TLS (system roots when only --cert/--key are
// given). Error: a file that cannot be read (naming the flag and path), --cert without --key.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const ClientTlsFiles& files);

}  // namespace drover
