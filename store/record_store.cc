// RecordStore: loading, decoding, configuration revisions and the audit log.
// Usage, timelines, timers and pruning are in record_store_history.cc.
#include "store/record_store.h"

#include <algorithm>

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "core/strings.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

constexpr std::string_view kActiveKey = "active";
// Text fields of an audit record are cut to this many bytes (the marker says the full size).
constexpr size_t kMaxAuditFieldBytes = 4096;
// An audit listing visits at most this many records looking for matches.
constexpr int64_t kMaxAuditScan = 10'000'000;

void CutField(std::string* s) {
  if (s->size() > kMaxAuditFieldBytes) *s = CutForMessage(*s, kMaxAuditFieldBytes);
}

bool AuditMatches(const AuditRecord& r, const AuditFilter& f) {
  return r.unix_ms() >= f.from_unix_ms && r.unix_ms() < f.to_unix_ms && (f.actor.empty() || r.actor() == f.actor) &&
         std::string_view(r.target()).substr(0, f.target_prefix.size()) == f.target_prefix;
}

int Clamp(int limit) { return std::clamp(limit, 0, kMaxPage); }

}  // namespace

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

RecordStore::RecordStore(std::unique_ptr<Kv> kv, StoreOptions options) : kv_(std::move(kv)), options_(options) {}

template <typename M>
bool RecordStore::Decode(Family f, std::string_view key, std::string_view value, M* out) const {
  if (value.size() <= kMaxRecordBytes && out->ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
  NoteDecodeError(StrCat("store ", kv_->path().empty() ? "(memory)" : kv_->path(), ": ", FamilyName(f), " key \"",
                         PrintableKey(key), "\": ", value.size(), " bytes do not decode as ",
                         M::descriptor()->full_name(), "; skipped"));
  return false;
}
template bool RecordStore::Decode(Family, std::string_view, std::string_view, UsageSample*) const;
template bool RecordStore::Decode(Family, std::string_view, std::string_view, TimelineEvent*) const;
template bool RecordStore::Decode(Family, std::string_view, std::string_view, WorkloadTimers*) const;

void RecordStore::NoteDecodeError(std::string message) const {
  spdlog::error("{}", message);
  MutexLock lock(&err_mu_);
  ++decode_errors_;
  last_decode_error_ = std::move(message);
}

absl::Status RecordStore::Load() {
  if (absl::Status s = LoadRevisions(); !s.ok()) return s;
  if (absl::Status s = LoadSequences(); !s.ok()) return s;
  return LoadSeries();
}

absl::Status RecordStore::LoadRevisions() {
  MutexLock lock(&rev_mu_);
  // Newest first: the newest decodable revision, and how many there are.
  absl::Status s = kv_->Scan(Family::kRevisions, "", "", /*reverse=*/true, [&](std::string_view k, std::string_view v) {
    Revision r;
    if (k.size() != 8 || !Decode(Family::kRevisions, k, v, &r)) return true;
    ++revision_count_;
    newest_ = std::max<int64_t>(newest_, static_cast<int64_t>(DecodeU64(k)));
    return true;
  });
  if (!s.ok()) return s;
  absl::StatusOr<std::optional<std::string>> active = kv_->Get(Family::kMeta, kActiveKey);
  if (!active.ok()) return active.status();
  store::v1::ActiveRevision pointer;
  if (active->has_value() && Decode(Family::kMeta, kActiveKey, **active, &pointer)) active_ = pointer.revision();
  if (active_ == 0 && newest_ > 0) {
    spdlog::error("store {}: no readable active-revision pointer; taking the newest revision, {}", kv_->path(), newest_);
    active_ = newest_;
  }
  return absl::OkStatus();
}

absl::Status RecordStore::LoadSequences() {
  {
    MutexLock lock(&audit_mu_);
    absl::Status s = kv_->Scan(Family::kAudit, "", "", false, [&](std::string_view k, std::string_view) {
      ++audit_count_;
      next_audit_ = std::max<int64_t>(next_audit_, static_cast<int64_t>(DecodeU64(k)) + 1);
      return true;
    });
    if (!s.ok()) return s;
  }
  MutexLock lock(&tl_mu_);
  return kv_->Scan(Family::kTimelineIndex, "", "", false, [&](std::string_view k, std::string_view) {
    ++event_count_;
    next_event_ = std::max<int64_t>(next_event_, static_cast<int64_t>(DecodeU64(k)) + 1);
    return true;
  });
}

absl::StatusOr<Revision> RecordStore::Apply(int64_t expected_active, Revision record) {
  MutexLock lock(&rev_mu_);
  return ApplyLocked(expected_active, std::move(record));
}

absl::StatusOr<Revision> RecordStore::ApplyLocked(int64_t expected_active, Revision record) {
  if (record.document().size() > kMaxRecordBytes / 2) {
    return absl::InvalidArgumentError(StrCat("store: revision document is ", record.document().size(),
                                             " bytes; the limit is ", kMaxRecordBytes / 2));
  }
  if (expected_active != active_) {
    return absl::AbortedError(StrCat("store: the configuration changed meanwhile: expected active revision ",
                                     expected_active, ", but the active revision is ", active_));
  }
  record.set_schema_version(kSchemaVersion);
  record.set_revision(newest_ + 1);
  record.set_sha256(Sha256Hex(record.document()));
  store::v1::ActiveRevision pointer;
  pointer.set_schema_version(kSchemaVersion);
  pointer.set_revision(record.revision());
  KvBatch batch;  // the revision and the pointer to it: together or not at all
  batch.Put(Family::kRevisions, EncodeU64(record.revision()), record.SerializeAsString());
  batch.Put(Family::kMeta, std::string(kActiveKey), pointer.SerializeAsString());
  if (absl::Status s = kv_->Write(batch, /*sync=*/true); !s.ok()) return s;
  active_ = newest_ = record.revision();
  ++revision_count_;
  return record;
}

absl::StatusOr<Revision> RecordStore::Rollback(int64_t to, std::string author, std::string comment,
                                               int64_t expected_active, int64_t now_unix_ms) {
  MutexLock lock(&rev_mu_);
  if (expected_active != active_) {
    return absl::AbortedError(StrCat("store: the configuration changed meanwhile: expected active revision ",
                                     expected_active, ", but the active revision is ", active_));
  }
  absl::StatusOr<Revision> target = GetRevision(to);
  if (!target.ok()) return target.status();
  Revision r;
  r.set_author(std::move(author));
  r.set_comment(std::move(comment));
  r.set_applied_unix_ms(now_unix_ms);
  r.set_source(store::v1::REVISION_SOURCE_ROLLBACK);
  r.set_document(target->document());
  r.set_rolled_back_from(to);
  return ApplyLocked(expected_active, std::move(r));
}

absl::StatusOr<std::vector<int64_t>> RecordStore::ImportRevisions(std::vector<Revision> mirrored) {
  std::vector<int64_t> written;
  if (mirrored.empty()) return written;
  std::sort(mirrored.begin(), mirrored.end(),
            [](const Revision& a, const Revision& b) { return a.revision() < b.revision(); });
  for (size_t i = 0; i < mirrored.size(); ++i) {
    const Revision& r = mirrored[i];
    if (r.revision() < 1) return absl::InvalidArgumentError(StrCat("store: import: revision ", r.revision(), " is not >= 1"));
    if (i > 0 && mirrored[i - 1].revision() == r.revision()) {
      return absl::InvalidArgumentError(StrCat("store: import: revision ", r.revision(), " appears twice"));
    }
    if (r.document().size() > kMaxRecordBytes / 2) {
      return absl::InvalidArgumentError(StrCat("store: import: revision ", r.revision(), "'s document is ",
                                               r.document().size(), " bytes; the limit is ", kMaxRecordBytes / 2));
    }
  }
  MutexLock lock(&rev_mu_);
  const int64_t newest = mirrored.back().revision();
  KvBatch batch;  // the revisions, the dropped ones and the pointer: together or not at all
  int64_t added = 0;
  for (Revision& r : mirrored) {
    r.set_schema_version(kSchemaVersion);
    r.set_sha256(Sha256Hex(r.document()));
    absl::StatusOr<Revision> local = GetRevision(r.revision());
    if (local.ok() && local->sha256() == r.sha256()) continue;
    if (absl::IsNotFound(local.status())) ++added;
    written.push_back(r.revision());
    batch.Put(Family::kRevisions, EncodeU64(static_cast<uint64_t>(r.revision())), r.SerializeAsString());
  }
  int64_t dropped = 0;
  if (newest_ > newest) {
    absl::Status s = kv_->Scan(Family::kRevisions, EncodeU64(static_cast<uint64_t>(newest + 1)), "", false,
                               [&](std::string_view, std::string_view) { return ++dropped, true; });
    if (!s.ok()) return s;
    batch.DeleteRange(Family::kRevisions, EncodeU64(static_cast<uint64_t>(newest + 1)),
                      EncodeU64(static_cast<uint64_t>(newest_) + 1));
  }
  store::v1::ActiveRevision pointer;
  pointer.set_schema_version(kSchemaVersion);
  pointer.set_revision(newest);
  batch.Put(Family::kMeta, std::string(kActiveKey), pointer.SerializeAsString());
  if (absl::Status s = kv_->Write(batch, /*sync=*/true); !s.ok()) return s;
  if (dropped > 0) {
    spdlog::warn("store {}: dropped {} local revisions above {}, the newest mirrored one (they were never mirrored)",
                 kv_->path(), dropped, newest);
  }
  revision_count_ += added - dropped;
  active_ = newest_ = newest;
  return written;
}

absl::StatusOr<Revision> RecordStore::Active() const {
  int64_t active;
  {
    MutexLock lock(&rev_mu_);
    active = active_;
  }
  if (active == 0) return absl::NotFoundError("store: no configuration revision has been applied");
  return GetRevision(active);
}

absl::StatusOr<Revision> RecordStore::GetRevision(int64_t n) const {
  if (n <= 0) return absl::NotFoundError(StrCat("store: revision ", n, " does not exist (revisions count from 1)"));
  const std::string key = EncodeU64(static_cast<uint64_t>(n));
  absl::StatusOr<std::optional<std::string>> value = kv_->Get(Family::kRevisions, key);
  if (!value.ok()) return value.status();
  Revision r;
  if (!value->has_value()) return absl::NotFoundError(StrCat("store: revision ", n, " does not exist"));
  if (!Decode(Family::kRevisions, key, **value, &r)) {
    return absl::DataLossError(StrCat("store: revision ", n, " does not decode; see the log"));
  }
  return r;
}

absl::StatusOr<RevisionPage> RecordStore::ListRevisions(int64_t before, int limit) const {
  RevisionPage page;
  const size_t want = static_cast<size_t>(Clamp(limit));
  const std::string end = before > 0 ? EncodeU64(static_cast<uint64_t>(before)) : "";
  bool more = false;
  absl::Status s = kv_->Scan(Family::kRevisions, "", end, /*reverse=*/true, [&](std::string_view k, std::string_view v) {
    if (page.revisions.size() == want) {
      more = true;
      return false;
    }
    Revision r;
    if (k.size() == 8 && Decode(Family::kRevisions, k, v, &r)) page.revisions.push_back(std::move(r));
    return true;
  });
  if (!s.ok()) return s;
  if (more && !page.revisions.empty()) page.next_before = page.revisions.back().revision();
  return page;
}

absl::StatusOr<int64_t> RecordStore::AppendAudit(AuditRecord record) {
  for (std::string* f : {record.mutable_actor(), record.mutable_action(), record.mutable_target(),
                         record.mutable_reason(), record.mutable_result()}) {
    CutField(f);
  }
  MutexLock lock(&audit_mu_);
  record.set_schema_version(kSchemaVersion);
  record.set_sequence(next_audit_);
  KvBatch batch;
  batch.Put(Family::kAudit, EncodeU64(static_cast<uint64_t>(next_audit_)), record.SerializeAsString());
  if (absl::Status s = kv_->Write(batch, /*sync=*/true); !s.ok()) return s;
  ++audit_count_;
  return next_audit_++;
}

absl::StatusOr<std::vector<AuditRecord>> RecordStore::ListAudit(const AuditFilter& filter) const {
  std::vector<AuditRecord> out;
  const size_t want = static_cast<size_t>(Clamp(filter.limit));
  int64_t visited = 0;
  absl::Status s = kv_->Scan(Family::kAudit, "", "", /*reverse=*/true, [&](std::string_view k, std::string_view v) {
    if (out.size() == want || ++visited > kMaxAuditScan) return false;
    AuditRecord r;
    if (Decode(Family::kAudit, k, v, &r) && AuditMatches(r, filter)) out.push_back(std::move(r));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

StoreStats RecordStore::Stats() const {
  StoreStats st;
  st.path = kv_->path();
  {
    MutexLock lock(&rev_mu_);
    st.revisions = revision_count_;
  }
  {
    MutexLock lock(&audit_mu_);
    st.audit_records = audit_count_;
  }
  {
    MutexLock lock(&tl_mu_);
    st.timeline_events = event_count_;
  }
  st.usage_points = kv_->EstimateCount(Family::kUsageMinute) + kv_->EstimateCount(Family::kUsageHour);
  (void)kv_->Scan(Family::kTimers, "", "", false, [&](std::string_view, std::string_view) {
    return ++st.timers < options_.max_timers;  // exact, and bounded like AllTimers
  });
  MutexLock lock(&err_mu_);
  st.decode_errors = decode_errors_;
  st.last_decode_error = last_decode_error_;
  return st;
}

}  // namespace drover
