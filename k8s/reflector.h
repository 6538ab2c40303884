// A Reflector keeps one resource (Nodes or Pods) of the API server mirrored as a
// stream of ClusterEvents, the way client-go's reflector does:
//
//  1. LIST in pages (limit=500 and continue), each page decoded and emitted before
//     the next is fetched, so a 100,000-pod list is never held whole;
//  2. WATCH from the list's resourceVersion with allowWatchBookmarks=true and a
//     timeoutSeconds drawn uniformly from [5, 10) minutes, taking the
//     resourceVersion of every event, bookmarks included;
//  3. when a watch ends, watch again from the last resourceVersion (at once after a
//     normal close, with exponential backoff after errors);
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
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/cluster.h"
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

struct ReflectorOptions {
  int page_size = 500;
  absl::Duration min_watch_timeout = absl::Minutes(5);  // timeoutSeconds in [min, 2*min)
  absl::Duration initial_backoff = absl::Milliseconds(800);
  absl::Duration max_backoff = absl::Seconds(30);
};

class Reflector {
 public:
  using Sink = std::function<void(std::vector<ClusterEvent>&& batch)>;

  Reflector(HttpClient* http, std::unique_ptr<ResourceCodec> codec, Sink sink, ReflectorOptions opts = {});

  // Lists and watches until `stop` is notified (or the HTTP client shuts down).
  void Run(const absl::Notification* stop);

  // True once the first complete list has been emitted.
  bool synced() const { return synced_.load(); }
  std::string resource_version() const;

  struct Stats {
    int64_t lists = 0;          // complete lists
    int64_t pages = 0;
    int64_t watches = 0;        // watch requests started
    int64_t gone = 0;           // 410s that forced a relist
    int64_t watch_events = 0;   // lines applied, bookmarks included
    int64_t bad_objects = 0;    // objects skipped because they did not decode
  };
  Stats stats() const;

 private:
  enum class WatchEnd { kClosed, kGone, kError, kCancelled };

  absl::Status ListAll(const absl::Notification* stop);
  WatchEnd Watch(const absl::Notification* stop);
  bool ApplyLine(std::string_view line, bool* gone, std::string* error);
  void SetResourceVersion(std::string rv);
  bool Sleep(const absl::Notification* stop, absl::Duration d) const;

  HttpClient* const http_;
  const std::unique_ptr<ResourceCodec> codec_;
  const Sink sink_;
  const ReflectorOptions opts_;

  absl::flat_hash_set<std::string> known_;  // keys emitted as upserted and not deleted
  std::atomic<bool> synced_{false};
  mutable std::mutex mu_;
  std::string resource_version_;  // guarded by mu_
  Stats stats_;                   // guarded by mu_
};

}  // namespace drover::k8s
