#include "k8s/token_source.h"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include "absl/time/clock.h"
#include "k8s/small_file.h"
#include "k8s/text.h"

namespace drover::k8s {
namespace {

// Service-account and OIDC tokens are a few KB; a larger file is not a token.
constexpr size_t kMaxTokenFileBytes = 1 << 20;

}  // namespace

TokenSource::TokenSource(std::string token, std::string token_file, absl::Duration check_interval,
                         SteadyClock* clock, std::optional<ExecConfig> exec)
    : file_(std::move(token_file)),
      check_interval_(check_interval),
      clock_(clock),
      token_(std::move(token)),
      exec_(std::move(exec)) {
  MutexLock lock(&mu_);
  if (!file_.empty()) MaybeReload();
}

std::string TokenSource::Token() {
  MutexLock lock(&mu_);
  if (exec_.has_value()) {
    MaybeRunPlugin();
  } else if (!file_.empty() && clock_->Now() - last_check_ >= check_interval_) {
    MaybeReload();
  }
  return token_;
}

bool TokenSource::Invalidate() {
  MutexLock lock(&mu_);
  if (exec_.has_value()) {
    token_.clear();
    token_expires_ = absl::InfinitePast();
    next_plugin_run_ = absl::InfinitePast();
    return true;
  }
  if (file_.empty()) return false;
  last_check_ = absl::InfinitePast();
  mtime_ = {};
  size_ = -1;
  return true;
}

void TokenSource::MaybeRunPlugin() {
  const absl::Time now = clock_->Now();
  if (!token_.empty() && now < token_expires_) return;
  if (now < next_plugin_run_) return;
  absl::StatusOr<ExecCredential> c = RunExecPlugin(*exec_);
  if (!c.ok()) {
    spdlog::warn("{}", Msg(c.status()));
    token_.clear();
    next_plugin_run_ = now + absl::Seconds(5);
    return;
  }
  token_ = std::move(c->token);
  // The expiry is wall time; held as a span of the (monotonic, injectable) clock.
  token_expires_ = c->expiry == absl::InfiniteFuture() ? absl::InfiniteFuture() : now + (c->expiry - absl::Now());
}

void TokenSource::MaybeReload() {
  last_check_ = clock_->Now();
  struct stat st {};
  if (stat(file_.c_str(), &st) != 0) return;
  if (st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec && st.st_size == size_) return;
  absl::StatusOr<std::string> raw = ReadSmallFile("token file", file_, kMaxTokenFileBytes);
  if (!raw.ok()) return;  // unreadable or absurd: keep the last good token
  std::string t(Trim(*raw));
  if (t.empty()) return;  // a half-written file: keep the last good token
  token_ = std::move(t);
  mtime_ = st.st_mtim;
  size_ = st.st_size;
}

}  // namespace drover::k8s
