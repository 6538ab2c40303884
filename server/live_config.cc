#include "server/live_config.h"


#include "core/strings.h"
#include "k8s/small_file.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

int64_t UnixMillisNow() { return absl::ToUnixMillis(absl::Now()); }

}  // namespace

absl::StatusOr<std::string> FileConfigSource::Read() {
  return ReadSmallFile("--queues", path_, kMaxDocumentBytes);  // queues/config.h: refused before it is read
}

std::string ContentHash(std::string_view text) { return Sha256Hex(text); }

LiveConfig::LiveConfig(std::unique_ptr<ConfigSource> source, ApplyFn apply, ConfigHistory* history)
    : source_(std::move(source)), apply_(std::move(apply)), history_(history) {}

LiveConfig::~LiveConfig() { Stop(); }

absl::StatusOr<QueueConfig> LiveConfig::LoadInitial() {
  absl::StatusOr<std::string> text = source_->Read();
  if (!text.ok()) return text.status();
  absl::StatusOr<QueueConfig> config = ParseQueueConfig(*text, source_->Name());
  if (!config.ok()) return config.status();
  const int64_t now = UnixMillisNow();
  const int64_t revision = history_ ? history_->RecordInitial(*text, source_->Author(), source_->Kind(), now) : 1;
  MutexLock lock(&mu_);
  status_ = ConfigStatus{revision, ContentHash(*text), source_->Name(), now, ""};
  source_hash_ = status_.hash;
  source_text_ = *text;
  if (revision == 0) {
    spdlog::info("configuration: the document from {} (sha256 {}); it becomes a revision when this replica leads "
                 "and the mirror says it changed", source_->Name(), status_.hash.substr(0, 12));
  } else {
    spdlog::info("configuration: revision {} from {} (sha256 {})", revision, source_->Name(), status_.hash.substr(0, 12));
  }
  return config;
}

void LiveConfig::Start(absl::Duration interval) {
  thread_ = std::thread([this, interval] { PollLoop(interval); });
}

void LiveConfig::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void LiveConfig::PollLoop(absl::Duration interval) {
  // Wakes every 100 ms to honour RequestCheck (SIGHUP) promptly.
  const absl::Duration tick = std::min(interval, absl::Milliseconds(100));
  absl::Time next = absl::Now() + interval;
  while (!stop_.WaitForNotificationWithTimeout(tick)) {
    const bool asked = check_requested_.exchange(false);
    if (!asked && absl::Now() < next) continue;
    if (asked) spdlog::info("configuration: re-reading {} (SIGHUP)", source_->Name());
    CheckOnce();
    next = absl::Now() + interval;
  }
}

bool LiveConfig::CheckOnce() {
  MutexLock one_at_a_time(&check_mu_);
  absl::StatusOr<std::string> text = source_->Read();
  if (!text.ok()) {
    spdlog::warn("configuration: {}; keeping revision {}", std::string(text.status().message()), status().revision);
    return false;
  }
  const std::string hash = ContentHash(*text);
  {
    MutexLock lock(&mu_);
    if (hash == source_hash_ || hash == refused_hash_) return false;
  }
  absl::StatusOr<QueueConfig> config = ParseQueueConfig(*text, source_->Name());
  absl::StatusOr<std::vector<std::string>> notes =
      config.ok() ? apply_(*std::move(config)) : absl::StatusOr<std::vector<std::string>>(config.status());
  // The store's record, outside mu_: a synced write must not hold up status() readers.
  const int64_t now = UnixMillisNow();
  absl::StatusOr<int64_t> stored_revision = int64_t{0};
  if (history_ && notes.ok()) stored_revision = history_->RecordApplied(*text, source_->Author(), source_->Kind(), now);
  if (history_ && !config.ok()) history_->RecordRefused(*text, source_->Author(), std::string(notes.status().message()), now);
  // A standby records no revision (the leader does): revision 0 says so.
  const bool standby = absl::IsFailedPrecondition(stored_revision.status());
  MutexLock lock(&mu_);
  if (notes.ok() && !stored_revision.ok() && !standby) {
    // In force but not recorded (the mirror or the store failed): the next poll applies and records it again.
    status_.last_error = StrCat("applied but not recorded: ", stored_revision.status().message());
    spdlog::error("configuration: a new document from {} (sha256 {}) is in force but not recorded as a revision: "
                  "{}; retrying at the next poll", source_->Name(), hash.substr(0, 12), status_.last_error);
    return false;
  }
  if (!notes.ok()) {
    // An invalid document is not looked at again until it changes; one the loop
    // could not take (stopping, busy) is tried again at the next poll.
    if (!config.ok()) refused_hash_ = hash;
    status_.last_error = std::string(notes.status().message());
    spdlog::error("configuration: refused a new document from {} (sha256 {}); revision {} stays in force:\n{}",
                  source_->Name(), hash.substr(0, 12), status_.revision, status_.last_error);
    return false;
  }
  status_.revision = !history_ ? status_.revision + 1 : standby ? 0 : *stored_revision;
  status_.hash = hash;
  status_.source = source_->Name();
  source_hash_ = hash;
  source_text_ = *std::move(text);
  status_.applied_unix_ms = now;
  status_.last_error.clear();
  refused_hash_.clear();
  if (standby) {
    spdlog::info("configuration: applied a new document from {} (sha256 {}); standby: the leader records it as a "
                 "revision", source_->Name(), hash.substr(0, 12));
  } else {
    spdlog::info("configuration: applied revision {} from {} (sha256 {})", status_.revision, source_->Name(),
                 hash.substr(0, 12));
  }
  for (const std::string& n : *notes) spdlog::warn("configuration: revision {}: {}", status_.revision, n);
  return true;
}

void LiveConfig::NoteRevision(int64_t revision, const std::string& hash, const std::string& source) {
  MutexLock lock(&mu_);
  status_.revision = revision;
  status_.hash = hash;
  status_.source = source;
  status_.applied_unix_ms = UnixMillisNow();
  status_.last_error.clear();
}

SourceDocument LiveConfig::source_document() const {
  MutexLock lock(&mu_);
  return SourceDocument{source_text_, source_->Author(), source_->Kind()};
}

ConfigStatus LiveConfig::status() const {
  MutexLock lock(&mu_);
  return status_;
}

}  // namespace drover
