// droverctl's client and output helpers (droverctl_client.h).
#include "server/droverctl_client.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "google/protobuf/util/json_util.h"
#include "k8s/small_file.h"
#include "queues/config.h"
#include "server/droverctl_config.h"
#include "yaml-cpp/yaml.h"

namespace drover::ctl {

absl::Status Client::Init() {
  const bool explicit_config = !g_.config.empty();
  absl::StatusOr<ClientConfig> file =
      LoadClientConfig(explicit_config ? g_.config : DefaultClientConfigPath(), explicit_config);
  if (!file.ok()) return file.status();
  std::string server = g_.server;
  if (server.empty() && std::getenv("DROVER_SERVER") != nullptr) server = std::getenv("DROVER_SERVER");
  if (server.empty()) server = file->server;
  if (server.empty()) server = "localhost:10252";
  for (auto [flag, from_file] : {std::pair{&g_.tls.cacert, &file->cacert}, std::pair{&g_.tls.cert, &file->cert},
                                 std::pair{&g_.tls.key, &file->key}}) {
    if (flag->empty()) *flag = *from_file;
  }
  token_ = g_.token;
  const bool env_token = std::getenv("DROVER_TOKEN") != nullptr && *std::getenv("DROVER_TOKEN") != '\0';
  if (token_.empty() && g_.token_file.empty() && !env_token) {
    token_ = file->token;
    g_.token_file = file->token_file;
  }
  if (token_.empty() && !g_.token_file.empty()) {
    absl::StatusOr<std::string> text = ReadSmallFile("--token-file", g_.token_file, 64 * 1024);
    if (!text.ok()) return text.status();
    token_ = std::string(absl::StripAsciiWhitespace(text->substr(0, text->find('\n'))));
  }
  if (token_.empty() && std::getenv("DROVER_TOKEN") != nullptr) token_ = std::getenv("DROVER_TOKEN");
  server_ = server;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(kMaxDocumentBytes) + (1 << 20));
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = ClientCredentials(g_.tls);
  if (!creds.ok()) return creds.status();
  stub_ = pb::Admin::NewStub(grpc::CreateCustomChannel(server, *creds, args));
  return absl::OkStatus();
}

int Client::Report(const grpc::Status& s) const {
  std::fprintf(stderr, "droverctl: %s\n", s.error_message().c_str());
  switch (s.error_code()) {
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return kConflict;
    case grpc::StatusCode::UNAUTHENTICATED:
      std::fprintf(stderr, "droverctl: pass --token, --token-file or set DROVER_TOKEN\n");
      return kDenied;
    case grpc::StatusCode::PERMISSION_DENIED:
      return kDenied;
    case grpc::StatusCode::UNAVAILABLE:
      std::fprintf(stderr, "droverctl: is droverd running with its admin API on %s? (--server or DROVER_SERVER)\n",
                   server_.c_str());
      return kError;
    default:
      return kError;
  }
}

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

// JSON is YAML's flow style: re-emitted in block style.
std::string Yaml(const google::protobuf::Message& m) {
  YAML::Emitter e;
  e << YAML::Load(Json(m));
  return StrCat(e.c_str(), "\n");
}

// Prints `m` as JSON or YAML when asked; returns false for the table formats.
bool PrintStructured(const Globals& g, const google::protobuf::Message& m) {
  if (g.output == "json") std::fputs(Json(m).c_str(), stdout);
  if (g.output == "yaml") std::fputs(Yaml(m).c_str(), stdout);
  return g.output == "json" || g.output == "yaml";
}

// Milli-units as a short decimal: 16000 -> "16", 500 -> "0.5".
std::string Milli(int64_t v) {
  if (v % 1000 == 0) return StrCat(v / 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", static_cast<double>(v) / 1000.0);
  return buf;
}

// Columns padded to their widest cell, two spaces apart, like kubectl.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

}  // namespace drover::ctl
