#include "server/droverctl_creds.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>


#include "k8s/small_file.h"
#include "core/strings.h"

namespace drover {
namespace {

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const ClientTlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--cert and --key go together: give both, or neither");
  }
  if (files.cacert.empty() && files.cert.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions opts;
  for (auto [flag, path, out] : {std::tuple{"--cacert", &files.cacert, &opts.pem_root_certs},
                                 std::tuple{"--cert", &files.cert, &opts.pem_cert_chain},
                                 std::tuple{"--key", &files.key, &opts.pem_private_key}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> pem = ReadSmallFile(flag, *path, 1 << 20);
    if (!pem.ok()) return pem.status();
    *out = *std::move(pem);
  }
  return grpc::SslCredentials(opts);
}

}  // namespace drover
