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

#include <sys/types.h>

#include <ctime>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "k8s/clock.h"

namespace drover::k8s {

class TokenSource {
 public:
  // The file is stat'ed at most once per `check_interval` of `clock` (not owned).
  TokenSource(std::string token, std::string token_file, absl::Duration check_interval = absl::Seconds(1),
              SteadyClock* clock = RealClock());

  // The current token. If the file cannot be read, the last good token is kept.
  std::string Token();

 private:
  void MaybeReload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string file_;
  const absl::Duration check_interval_;
  SteadyClock* const clock_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time last_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  struct timespec mtime_ ABSL_GUARDED_BY(mu_) {};
  off_t size_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace drover::k8s
