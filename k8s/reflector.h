// A Reflector keeps one resource (Nodes, Pods or Namespaces) of the API server mirrored as a
// stream of ClusterEvents, the way client-go's reflector does:
//
//  1. LIST in pages (limit=500 and continue), each page decoded and emitted before
//     the next is fetched, so a 100,000-pod list is never held whole;
//  2. WATCH from the list's resourceVersion with allowWatchBookmarks=true and a
//     timeoutSeconds drawn uniformly from [5, 10) minutes, taking the
//     resourceVersion of every event, bookmarks included;
//  3. when a watch ends, watch again from the last resourceVersion: at once after a
//     normal close; after an error (a failed request, an error status, a stream
//     broken mid-line) with exponential back-off and jitter (800 ms doubling to
//     30 s, x[1, 1.5)), reset once a list completes or a watch delivers an event
//     or bookmark, like client-go's reflector;
//  3a. a watch that delivers nothing (no event, no bookmark) for
//     watch_progress_timeout (5 min) is taken as dead: logged, counted, and the
//     resource is listed again (a silent watch may have lost events; the list
//     recovers them with replace semantics). healthy() is false from then until
//     the list completes or an event arrives;
//  4. on 410 Gone (an HTTP 410, or an ERROR event with code 410) LIST again and
//     apply replace semantics: upserts for everything listed, then deletes for
//     every key seen before that the new list lacks. An expired continue token
//     (410 mid-list) restarts the list from the first page.
//
//   Reflector pods(http, MakePodCodec(labels), [&](std::vector<ClusterEvent>&& b) { queue.Push(b); }, {});
//   std::thread t([&] { pods.Run(&stop); });
//
// Invariant: after a list or watch event is applied, `known` keys equal the keys
// the downstream has seen upserted and not deleted, so a relist never loses or
// duplicates an object.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/cluster.h"
#include "core/sync.h"
#include "k8s/clock.h"
#include "k8s/decode.h"
#include "k8s/http_client.h"

namespace drover::k8s {

// Decodes one resource's lists and watch lines into keyed ClusterEvents.
class ResourceCodec {
 public:
  struct Line {
    WatchType type = WatchType::kAdded;
    std::string key;
    std::string resource_version;
    std::optional<ClusterEvent> event;  // upsert or delete, when the object decoded
    absl::Status object_error;
    int error_code = 0;
    std::string error_message;
  };
  using Upsert = absl::FunctionRef<void(std::string key, ClusterEvent&& ev)>;
  using Bad = absl::FunctionRef<void(std::string_view key, const absl::Status& why)>;

  virtual ~ResourceCodec() = default;
  virtual std::string_view resource() const = 0;  // "pods"
  virtual std::string_view path() const = 0;      // "/api/v1/pods"
  virtual absl::StatusOr<ListMeta> DecodePage(const std::string& body, Upsert upsert, Bad bad) = 0;
  virtual absl::StatusOr<Line> DecodeLine(std::string_view line) = 0;
  // A delete event for `key` (used by replace semantics).
  virtual ClusterEvent DeleteEvent(const std::string& key) const = 0;
};

std::unique_ptr<ResourceCodec> MakePodCodec(std::vector<std::string> product_labels);
std::unique_ptr<ResourceCodec> MakeNodeCodec(std::vector<std::string> product_labels);
// Namespaces' names and labels (kNamespaceUpsert / kNamespaceDelete), for namespaceSelector.
std::unique_ptr<ResourceCodec> MakeNamespaceCodec();

struct ReflectorOptions {
  int page_size = 500;
  absl::Duration min_watch_timeout = absl::Minutes(5);  // timeoutSeconds in [min, 2*min)
  absl::Duration initial_backoff = absl::Milliseconds(800);
  absl::Duration max_backoff = absl::Seconds(30);
  // A watch with no event and no bookmark for this long is dead (API servers send
  // watchers that allow bookmarks one about every minute).
  absl::Duration watch_progress_timeout = absl::Minutes(5);
  // Times back-off and progress; not owned. Null: RealClock(). (The silent-watch
  // timeout itself is the HTTP stream's idle timeout, in real time.)
  SteadyClock* clock = nullptr;
};

class Reflector {
 public:
  using Sink = std::function<void(std::vector<ClusterEvent>&& batch)>;

  Reflector(HttpClient* http, std::unique_ptr<ResourceCodec> codec, Sink sink, ReflectorOptions opts = {});

  // Lists and watches until `stop` is notified (or the HTTP client shuts down).
  void Run(const Notification* stop);

  // True once the first complete list has been emitted.
  bool synced() const { return synced_.load(); }
  // Whether the mirror is live, for readiness (/readyz): synced, and no watch has
  // been found silent since the last list completed or event arrived.
  bool healthy() const;
  // When (on the options' clock) the last list completed or the last watch event
  // or bookmark arrived; absl::InfinitePast() before any.
  absl::Time last_progress() const;
  std::string resource_version() const;

  struct Stats {
    int64_t lists = 0;          // complete lists
    int64_t list_errors = 0;    // lists that failed (then back-off), e.g. 403 without RBAC
    int64_t pages = 0;
    int64_t watches = 0;        // watch requests started
    int64_t gone = 0;           // 410s that forced a relist
    int64_t watch_events = 0;   // lines applied, bookmarks included
    int64_t bad_objects = 0;    // objects skipped because they did not decode
    int64_t watch_errors = 0;   // watches that ended in an error (then back-off)
    int64_t silent_watches = 0; // watches with no progress for watch_progress_timeout (then a relist)
  };
  Stats stats() const;

 private:
  enum class WatchEnd { kClosed, kGone, kError, kSilent, kCancelled };

  absl::Status ListAll(const Notification* stop);
  // One watch; `*progressed` tells whether it applied at least one event or bookmark.
  WatchEnd Watch(const Notification* stop, bool* progressed);
  WatchEnd WatchOutcome(const absl::StatusOr<HttpResponse>& resp, bool gone, const std::string& error,
                        int64_t lines, absl::Duration lasted);
  bool ApplyLine(std::string_view line, bool* gone, std::string* error);
  void SetResourceVersion(std::string rv);
  void NoteProgress();
  bool Sleep(const Notification* stop, absl::Duration d) const;

  HttpClient* const http_;
  const std::unique_ptr<ResourceCodec> codec_;
  const Sink sink_;
  const ReflectorOptions opts_;
  SteadyClock* const clock_;

  absl::flat_hash_set<std::string> known_;  // keys emitted as upserted and not deleted; the Run thread's
  std::atomic<bool> synced_{false};
  mutable Mutex mu_;
  std::string resource_version_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  absl::Time last_progress_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool silent_ ABSL_GUARDED_BY(mu_) = false;  // a watch was found silent; cleared by progress
};

}  // namespace drover::k8s
