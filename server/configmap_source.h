// The quota document read from a ConfigMap through the API server, so that a
// `kubectl apply` of the ConfigMap reaches the running droverd within one poll
// (a mounted ConfigMap file lags by the kubelet's sync period, about a minute).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "k8s/http_client.h"
#include "server/live_config.h"

namespace drover {

struct ConfigMapRef {
  std::string namespace_;
  std::string name;
  std::string key = "queues.yaml";
};

// Parses "NAMESPACE/NAME" or "NAMESPACE/NAME:KEY" (a flag's value). Error names
// `flag` and the value.
absl::StatusOr<ConfigMapRef> ParseConfigMapRef(std::string_view flag, std::string_view text);

// The value of data[key] in a ConfigMap's JSON. Error names the key.
absl::StatusOr<std::string> ConfigMapValue(std::string_view json, const std::string& key);

class ConfigMapConfigSource : public ConfigSource {
 public:
  ConfigMapConfigSource(k8s::HttpClient* http, ConfigMapRef ref) : http_(http), ref_(std::move(ref)) {}
  absl::StatusOr<std::string> Read() override;
  std::string Name() const override;
  std::string Author() const override { return "configmap:" + ref_.namespace_ + "/" + ref_.name; }
  store::v1::RevisionSource Kind() const override { return store::v1::REVISION_SOURCE_CONFIGMAP; }

 private:
  k8s::HttpClient* http_;
  ConfigMapRef ref_;
};

}  // namespace drover
