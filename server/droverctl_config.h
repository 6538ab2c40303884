// droverctl's client configuration file, like a kubeconfig context:
//
//   # $XDG_CONFIG_HOME/drover/config.yaml (else ~/.config/drover/config.yaml), or --config FILE
//   server: drover.example.com:10252
//   token-file: /home/alice/.drover/token     # or token: ...
//   cacert: /etc/drover/ca.crt                # TLS; cert: and key: for a client certificate
//
// Precedence: flags, then the environment (DROVER_SERVER, DROVER_TOKEN), then this
// file, then the defaults (localhost:10252, plaintext).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace drover {

struct ClientConfig {
  std::string server;
  std::string token;
  std::string token_file;
  std::string cacert;
  std::string cert;
  std::string key;
};

// The default file's path ("" when neither $XDG_CONFIG_HOME nor $HOME is set).
std::string DefaultClientConfigPath();

// Reads `path`. A missing file is an empty config unless `required` (--config given).
// Error: not YAML, not a mapping, an unknown key or a value that is not a string
// (naming the file and the key), a file over 64 KiB.
absl::StatusOr<ClientConfig> LoadClientConfig(const std::string& path, bool required);

}  // namespace drover
