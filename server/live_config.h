// Live configuration: the quota document in force, and its replacement while
// droverd runs. A source (the --queues file, or the ConfigMap droverd was
// started from) is read at start and then polled; a changed document that
// validates is applied atomically through the loop's mailbox and logged with
// its revision; one that does not is refused with every error logged, and the
// running configuration stays.
//
//   LiveConfig live(std::make_unique<FileConfigSource>(path), apply_fn);
//   ASSIGN_OR_RETURN(QueueConfig first, live.LoadInitial());   // revision 1
//   live.Start(absl::Seconds(5));      // polls; RequestCheck() (SIGHUP) checks at once
//   ...
//   live.Stop();
//
// Without a ConfigHistory, revisions count from 1 in this process; with one,
// they are the store's (server/config_history.h) and continue across restarts.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/sync.h"
#include "queues/config.h"
#include "server/config_history.h"
#include "server/status.h"

namespace drover {

// Where the quota document's text comes from.
class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // The document's current text; an error names the source and why it cannot be read.
  virtual absl::StatusOr<std::string> Read() = 0;
  // For logs and errors: "file /etc/drover/queues.yaml", "configmap ns/name key queues.yaml".
  virtual std::string Name() const = 0;
  // The author of its revisions in the store: "file:/etc/drover/queues.yaml", "configmap:ns/name".
  virtual std::string Author() const { return Name(); }
  virtual store::v1::RevisionSource Kind() const { return store::v1::REVISION_SOURCE_UNSPECIFIED; }
};

class FileConfigSource : public ConfigSource {
 public:
  explicit FileConfigSource(std::string path) : path_(std::move(path)) {}
  absl::StatusOr<std::string> Read() override;
  std::string Name() const override { return "file " + path_; }
  std::string Author() const override { return "file:" + path_; }
  store::v1::RevisionSource Kind() const override { return store::v1::REVISION_SOURCE_FILE; }

 private:
  std::string path_;
};

// Hex SHA-256 of `text`.
std::string ContentHash(std::string_view text);

class LiveConfig {
 public:
  // Applies a validated document to the running scheduler (through the mailbox)
  // and returns the engine's notes (queues left above their new max). An error
  // means it was not applied.
  using ApplyFn = std::function<absl::StatusOr<std::vector<std::string>>(QueueConfig)>;

  // `history` (may be null) records every applied and refused document in the
  // store; revision numbers then come from it.
  LiveConfig(std::unique_ptr<ConfigSource> source, ApplyFn apply, ConfigHistory* history = nullptr);
  ~LiveConfig();

  // Reads and validates the document at start (revision 1). Error: unreadable
  // or invalid, naming the source and every problem.
  absl::StatusOr<QueueConfig> LoadInitial();
  // Polls the source every `interval` on a thread of its own.
  void Start(absl::Duration interval);
  void Stop();
  // Asks the polling thread to check now (async-signal-safe: sets a flag).
  void RequestCheck() { check_requested_.store(true); }
  // Reads the source once; applies the document if it changed and is valid.
  // Returns true if a new revision was applied. Thread-safe; not on the loop
  // thread (it waits for the loop).
  bool CheckOnce();
  ConfigStatus status() const;
  // The source's document last put in force (its author and kind): what a
  // replica that becomes leader records when it changed (ConfigHistory::TakeOver).
  SourceDocument source_document() const;
  // Another writer (the admin API) put revision `revision` in force. The status
  // shows it; the source is applied again only when its own text changes (then
  // it wins, as a new revision).
  void NoteRevision(int64_t revision, const std::string& hash, const std::string& source);

 private:
  void PollLoop(absl::Duration interval);

  std::unique_ptr<ConfigSource> source_;
  ApplyFn apply_;
  ConfigHistory* history_;
  std::atomic<bool> check_requested_{false};
  Notification stop_;
  std::thread thread_;
  Mutex check_mu_;  // one check at a time
  mutable Mutex mu_;
  ConfigStatus status_ ABSL_GUARDED_BY(mu_);
  std::string refused_hash_ ABSL_GUARDED_BY(mu_);  // last refused document, not re-logged
  std::string source_hash_ ABSL_GUARDED_BY(mu_);   // the source's last applied text
  std::string source_text_ ABSL_GUARDED_BY(mu_);   // ... and the text itself
};

}  // namespace drover
