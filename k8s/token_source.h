// The bearer token sent with each request: a fixed value from the kubeconfig, a
// file (tokenFile, the service account token) re-read when it changes on disk, so
// that projected-token rotation is picked up without a restart (client-go re-reads
// such files periodically too), or an exec credential plugin (exec_credential.h)
// whose token is cached until its expirationTimestamp and fetched again after a
// 401, like client-go's exec authenticator.
//
//   TokenSource tokens(cfg.token, cfg.token_file);
//   std::string t = tokens.Token();   // "" when there is none
//   if (response.status == 401 && tokens.Invalidate()) retry();
//
// Thread-safe; a plugin runs once at a time.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "core/sync.h"
#include "k8s/clock.h"
#include "k8s/exec_credential.h"

namespace drover::k8s {

class TokenSource {
 public:
  // The file is stat'ed at most once per `check_interval` of `clock` (not owned).
  // With `exec`, the token comes from that plugin instead.
  TokenSource(std::string token, std::string token_file, absl::Duration check_interval = absl::Seconds(1),
              SteadyClock* clock = RealClock(), std::optional<ExecConfig> exec = std::nullopt);

  // The current token. If the file cannot be read, the last good token is kept. A
  // plugin runs when there is no token yet or it has expired; when it fails, the
  // error is logged, "" is returned, and it is not run again for 5 s.
  std::string Token();
  // The server refused the token (HTTP 401): forget it, so that the next Token()
  // runs the plugin again or re-reads the file. True when that may give another
  // token (a plugin or a file), false for a fixed token.
  bool Invalidate();

 private:
  void MaybeReload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeRunPlugin() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string file_;
  const absl::Duration check_interval_;
  SteadyClock* const clock_;
  Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time last_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  struct timespec mtime_ ABSL_GUARDED_BY(mu_) {};
  off_t size_ ABSL_GUARDED_BY(mu_) = -1;
  const std::optional<ExecConfig> exec_;
  absl::Time token_expires_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // on clock_; plugin tokens only
  absl::Time next_plugin_run_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // after a failure
};

}  // namespace drover::k8s
