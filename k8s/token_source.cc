#include "k8s/token_source.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "k8s/text.h"

namespace drover::k8s {

TokenSource::TokenSource(std::string token, std::string token_file, std::chrono::milliseconds check_interval)
    : token_(std::move(token)), file_(std::move(token_file)), check_interval_(check_interval) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_.empty()) MaybeReload();
}

std::string TokenSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_.empty()) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_check_ >= check_interval_) MaybeReload();
  }
  return token_;
}

void TokenSource::MaybeReload() {
  last_check_ = std::chrono::steady_clock::now();
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
