#include "server/configmap_source.h"

#include <simdjson.h>

#include "core/strings.h"
#include "k8s/api_status.h"
#include "k8s/json_util.h"
#include "server/droverd_flags.h"

namespace drover {

absl::StatusOr<ConfigMapRef> ParseConfigMapRef(std::string_view flag, std::string_view text) {
  ConfigMapRef ref;
  const size_t slash = text.find('/');
  const size_t colon = text.find(':');
  const bool shaped = slash != std::string_view::npos && (colon == std::string_view::npos || colon > slash);
  if (shaped) {
    ref.namespace_ = std::string(text.substr(0, slash));
    ref.name = std::string(text.substr(slash + 1, colon == std::string_view::npos ? colon : colon - slash - 1));
    if (colon != std::string_view::npos) ref.key = std::string(text.substr(colon + 1));
  }
  if (!shaped || !IsDnsSubdomain(ref.namespace_) || !IsDnsSubdomain(ref.name) || ref.key.empty()) {
    return absl::InvalidArgumentError(
        StrCat(flag, ": \"", CutForMessage(text), "\" is not NAMESPACE/NAME or NAMESPACE/NAME:KEY"));
  }
  return ref;
}

absl::StatusOr<std::string> ConfigMapValue(std::string_view json, const std::string& key) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("configmap: the response is not JSON");
  }
  std::string_view value;
  auto error = doc["data"][key].get_string().get(value);
  if (error == simdjson::NO_SUCH_FIELD) {
    return absl::NotFoundError(StrCat("configmap: data has no key \"", key, "\""));
  }
  if (error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat("configmap: data.", key, " is not a string"));
  }
  return std::string(value);
}

std::string ConfigMapConfigSource::Name() const {
  return StrCat("configmap ", ref_.namespace_, "/", ref_.name, " key ", ref_.key);
}

absl::StatusOr<std::string> ConfigMapConfigSource::Read() {
  k8s::HttpRequest req;
  req.path = StrCat("/api/v1/namespaces/", ref_.namespace_, "/configmaps/", ref_.name);
  absl::StatusOr<k8s::HttpResponse> resp = http_->Send(req);
  if (!resp.ok()) return absl::UnavailableError(StrCat(Name(), ": ", resp.status().message()));
  if (resp->status != 200) return k8s::ApiError(*resp, Name());
  absl::StatusOr<std::string> value = ConfigMapValue(resp->body, ref_.key);
  if (!value.ok()) return absl::Status(value.status().code(), StrCat(Name(), ": ", value.status().message()));
  return value;
}

}  // namespace drover
