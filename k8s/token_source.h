// The bearer token sent with each request: a fixed value from the kubeconfig, or
// a file (tokenFile, the service account token) re-read when it changes on disk,
// so that projected-token rotation is picked up without a restart (client-go
// re-reads such files periodically too).
//
//   TokenSource tokens(cfg.token, cfg.token_file);
//   std::string t = tokens.Token();   // "" when there is none
//
// Thread-safe.
#pragma once

#include <chrono>
#include <ctime>
#include <mutex>
#include <string>

namespace drover::k8s {

class TokenSource {
 public:
  // `check_interval` bounds how often the file is stat'ed (tests pass zero).
  TokenSource(std::string token, std::string token_file,
              std::chrono::milliseconds check_interval = std::chrono::seconds(1));

  // The current token. If the file cannot be read, the last good token is kept.
  std::string Token();

 private:
  void MaybeReload();

  std::mutex mu_;
  std::string token_;
  const std::string file_;
  const std::chrono::milliseconds check_interval_;
  std::chrono::steady_clock::time_point last_check_{};
  struct timespec mtime_ {};
  off_t size_ = -1;
};

}  // namespace drover::k8s
