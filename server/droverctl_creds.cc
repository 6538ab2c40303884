#include "server/droverctl_creds.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace drover {
namespace {

absl::StatusOr<std::string> ReadSmall(std::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat(flag, ": cannot read \"", CutForMessage(path), "\""));
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().size() > (1u << 20)) return absl::InvalidArgumentError(StrCat(flag, ": \"", path, "\" is over 1 MiB"));
  return s.str();
}

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
    absl::StatusOr<std::string> pem = ReadSmall(flag, *path);
    if (!pem.ok()) return pem.status();
    *out = *std::move(pem);
  }
  return grpc::SslCredentials(opts);
}

}  // namespace drover
