#include "server/droverctl_config.h"

#include <cstdlib>

#include "k8s/small_file.h"
#include "core/strings.h"
#include "yaml-cpp/yaml.h"

namespace drover {

std::string DefaultClientConfigPath() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return StrCat(xdg, "/drover/config.yaml");
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return StrCat(home, "/.config/drover/config.yaml");
  }
  return "";
}

absl::StatusOr<ClientConfig> LoadClientConfig(const std::string& path, bool required) {
  ClientConfig out;
  absl::StatusOr<std::string> text = ReadSmallFile("--config", path, 64 * 1024);
  if (absl::IsNotFound(text.status()) && !required) return out;
  if (!text.ok()) return text.status();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat(path, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  if (root.IsNull()) return out;
  if (!root.IsMap()) return absl::InvalidArgumentError(StrCat(path, ": expected a mapping of server, token, ..."));
  const std::pair<const char*, std::string*> keys[] = {{"server", &out.server}, {"token", &out.token},
                                                       {"token-file", &out.token_file}, {"cacert", &out.cacert},
                                                       {"cert", &out.cert}, {"key", &out.key}};
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    std::string* field = nullptr;
    for (const auto& [name, f] : keys) {
      if (key == name) field = f;
    }
    const std::string where = StrCat(path, ":", kv.first.Mark().line + 1, ": ");
    if (field == nullptr) {
      return absl::InvalidArgumentError(StrCat(where, "unknown key \"", CutForMessage(key),
                                               "\" (known: server, token, token-file, cacert, cert, key)"));
    }
    if (!kv.second.IsScalar()) return absl::InvalidArgumentError(StrCat(where, key, ": expected a string"));
    *field = kv.second.Scalar();
  }
  return out;
}

}  // namespace drover
