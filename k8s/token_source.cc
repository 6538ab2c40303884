#include "k8s/token_source.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "k8s/text.h"

namespace drover::k8s {

TokenSource::TokenSource(std::string token, std::string token_file, absl::Duration check_interval,
                         SteadyClock* clock)
    : file_(std::move(token_file)), check_interval_(check_interval), clock_(clock), token_(std::move(token)) {
  absl::MutexLock lock(&mu_);
  if (!file_.empty()) MaybeReload();
}

std::string TokenSource::Token() {
  absl::MutexLock lock(&mu_);
  if (!file_.empty() && clock_->Now() - last_check_ >= check_interval_) MaybeReload();
  return token_;
}

void TokenSource::MaybeReload() {
  last_check_ = clock_->Now();
  struct stat st {};
  if (stat(file_.c_str(), &st) != 0) return;
  if (st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec && st.st_size == size_) return;
  std::ifstream in(file_, std::ios::binary);
  if (!in) return;
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string raw = ss.str();
  std::string t(Trim(raw));
  if (t.empty()) return;  // a half-written file: keep the last good token
  token_ = std::move(t);
  mtime_ = st.st_mtim;
  size_ = st.st_size;
}

}  // namespace drover::k8s
