#include "k8s/reflector.h"

#include <spdlog/spdlog.h>

#include "absl/random/random.h"
#include "core/strings.h"
#include "k8s/api_status.h"
#include "k8s/json_util.h"
#include "k8s/text.h"

namespace drover::k8s {
namespace {

// What one resource's codec needs: where it lives, the decoder's methods for it,
// its events, and its key (a pod's "ns/name", a node's or namespace's name).
template <typename T>
struct CodecSpec {
  std::string_view resource;  // "pods"
  std::string_view path;      // "/api/v1/pods"
  absl::StatusOr<ListMeta> (Decoder::*list)(const std::string&, absl::FunctionRef<void(T&&)>, Decoder::BadItem);
  absl::StatusOr<WatchEvent<T>> (Decoder::*watch_event)(std::string_view);
  ClusterEvent::Kind upsert;
  ClusterEvent::Kind del;
  T ClusterEvent::*object;
  std::string (*key)(const T&);
  void (*from_key)(const std::string& key, T* out);  // the fields a delete event needs
};

template <typename T>
class TypedCodec : public ResourceCodec {
 public:
  TypedCodec(CodecSpec<T> spec, std::vector<std::string> labels) : spec_(spec), dec_(std::move(labels)) {}
  std::string_view resource() const override { return spec_.resource; }
  std::string_view path() const override { return spec_.path; }

  absl::StatusOr<ListMeta> DecodePage(const std::string& body, Upsert upsert, Bad bad) override {
    return (dec_.*spec_.list)(
        body,
        [&](T&& obj) {
          std::string key = spec_.key(obj);
          upsert(std::move(key), Event(std::move(obj), spec_.upsert));
        },
        bad);
  }

  absl::StatusOr<Line> DecodeLine(std::string_view text) override {
    absl::StatusOr<WatchEvent<T>> ev = (dec_.*spec_.watch_event)(text);
    if (!ev.ok()) return ev.status();
    Line line;
    line.type = ev->type;
    line.key = std::move(ev->key);
    line.resource_version = std::move(ev->resource_version);
    line.object_error = std::move(ev->object_error);
    line.error_code = ev->error_code;
    line.error_message = std::move(ev->error_message);
    if (ev->object.has_value()) {
      line.event = Event(std::move(*ev->object), ev->type == WatchType::kDeleted ? spec_.del : spec_.upsert);
    }
    return line;
  }

  ClusterEvent DeleteEvent(const std::string& key) const override {
    ClusterEvent ev;
    ev.kind = spec_.del;
    spec_.from_key(key, &(ev.*spec_.object));
    return ev;
  }

 private:
  ClusterEvent Event(T&& obj, ClusterEvent::Kind kind) const {
    ClusterEvent ev;
    ev.kind = kind;
    ev.*spec_.object = std::move(obj);
    return ev;
  }

  const CodecSpec<T> spec_;
  Decoder dec_;
};

}  // namespace

std::unique_ptr<ResourceCodec> MakePodCodec(std::vector<std::string> product_labels) {
  CodecSpec<Pod> spec{"pods", "/api/v1/pods", &Decoder::DecodePodList, &Decoder::DecodePodEvent,
                      ClusterEvent::Kind::kPodUpsert, ClusterEvent::Kind::kPodDelete, &ClusterEvent::pod,
                      [](const Pod& p) { return p.Key(); },
                      [](const std::string& key, Pod* p) {
                        const size_t slash = key.find('/');
                        p->namespace_ = key.substr(0, slash);
                        p->name = slash == std::string::npos ? key : key.substr(slash + 1);
                      }};
  return std::make_unique<TypedCodec<Pod>>(spec, std::move(product_labels));
}

std::unique_ptr<ResourceCodec> MakeNodeCodec(std::vector<std::string> product_labels) {
  CodecSpec<Node> spec{"nodes", "/api/v1/nodes", &Decoder::DecodeNodeList, &Decoder::DecodeNodeEvent,
                       ClusterEvent::Kind::kNodeUpsert, ClusterEvent::Kind::kNodeDelete, &ClusterEvent::node,
                       [](const Node& n) { return n.name; }, [](const std::string& key, Node* n) { n->name = key; }};
  return std::make_unique<TypedCodec<Node>>(spec, std::move(product_labels));
}

std::unique_ptr<ResourceCodec> MakeNamespaceCodec() {
  CodecSpec<Namespace> spec{"namespaces", "/api/v1/namespaces", &Decoder::DecodeNamespaceList,
                            &Decoder::DecodeNamespaceEvent, ClusterEvent::Kind::kNamespaceUpsert,
                            ClusterEvent::Kind::kNamespaceDelete, &ClusterEvent::ns,
                            [](const Namespace& n) { return n.name; },
                            [](const std::string& key, Namespace* n) { n->name = key; }};
  return std::make_unique<TypedCodec<Namespace>>(spec, std::vector<std::string>{});
}

Reflector::Reflector(HttpClient* http, std::unique_ptr<ResourceCodec> codec, Sink sink, ReflectorOptions opts)
    : http_(http),
      codec_(std::move(codec)),
      sink_(std::move(sink)),
      opts_(opts),
      clock_(opts.clock != nullptr ? opts.clock : RealClock()) {}

std::string Reflector::resource_version() const {
  MutexLock lock(&mu_);
  return resource_version_;
}

Reflector::Stats Reflector::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

bool Reflector::healthy() const {
  if (!synced()) return false;
  MutexLock lock(&mu_);
  return !silent_;
}

absl::Time Reflector::last_progress() const {
  MutexLock lock(&mu_);
  return last_progress_;
}

void Reflector::NoteProgress() {
  const absl::Time now = clock_->Now();
  MutexLock lock(&mu_);
  last_progress_ = now;
  silent_ = false;
}

void Reflector::SetResourceVersion(std::string rv) {
  if (rv.empty()) return;
  MutexLock lock(&mu_);
  resource_version_ = std::move(rv);
}

bool Reflector::Sleep(const Notification* stop, absl::Duration d) const {
  return clock_->SleepFor(d, stop) && !http_->shutting_down();
}

void Reflector::Run(const Notification* stop) {
  absl::BitGen gen;
  absl::Duration backoff = opts_.initial_backoff;
  auto stopped = [&] { return (stop != nullptr && stop->HasBeenNotified()) || http_->shutting_down(); };
  auto back_off = [&] {
    absl::Duration d = backoff * absl::Uniform(gen, 1.0, 1.5);  // jitter, like wait.Backoff
    backoff = std::min(backoff * 2, opts_.max_backoff);
    return Sleep(stop, d);
  };
  bool need_list = true;
  while (!stopped()) {
    if (need_list) {
      absl::Status s = ListAll(stop);
      if (!s.ok()) {
        if (stopped()) break;
        spdlog::warn("{}: list failed: {}", codec_->resource(), Msg(s));
        {
          MutexLock lock(&mu_);
          stats_.list_errors++;
        }
        if (!back_off()) break;
        continue;
      }
      need_list = false;
      synced_.store(true);
      backoff = opts_.initial_backoff;
    }
    bool progressed = false;
    const WatchEnd end = Watch(stop, &progressed);
    if (progressed) backoff = opts_.initial_backoff;  // the stream worked: start the back-off over
    switch (end) {
      case WatchEnd::kClosed:
        break;
      case WatchEnd::kGone:
      case WatchEnd::kSilent:
        need_list = true;
        break;
      case WatchEnd::kError:
        if (!back_off()) return;
        break;
      case WatchEnd::kCancelled:
        return;
    }
  }
}

absl::Status Reflector::ListAll(const Notification* stop) {
  absl::flat_hash_set<std::string> seen;
  std::string cont;
  std::string rv;
  int restarts = 0;
  while (true) {
    if (stop != nullptr && stop->HasBeenNotified()) return absl::CancelledError("stopped");
    std::string path = StrCat(codec_->path(), "?limit=", opts_.page_size);
    if (!cont.empty()) StrAppend(&path, "&continue=", UrlEncode(cont));
    absl::StatusOr<HttpResponse> resp = http_->Send(HttpRequest{.path = path});
    if (!resp.ok()) return resp.status();
    if (resp->status == 410 && !cont.empty() && restarts < 3) {
      // The continue token expired: a consistent list must start over.
      spdlog::info("{}: continue token expired, listing again from the start", codec_->resource());
      cont.clear();
      ++restarts;
      continue;
    }
    if (resp->status != 200) return ApiError(*resp, StrCat("list ", codec_->resource()));
    std::vector<ClusterEvent> batch;
    int64_t bad_count = 0;
    absl::StatusOr<ListMeta> meta = codec_->DecodePage(
        resp->body,
        [&](std::string key, ClusterEvent&& ev) {
          known_.insert(key);
          seen.insert(std::move(key));
          batch.push_back(std::move(ev));
        },
        [&](std::string_view key, const absl::Status& why) {
          ++bad_count;
          spdlog::warn("{}: skipping object: {}", codec_->resource(), Msg(why));
          if (!key.empty()) seen.insert(std::string(key));  // keep whatever we had for it
        });
    resp->body = std::string();  // the page's text is not needed any more
    if (!meta.ok()) {
      return absl::Status(meta.status().code(), StrCat("list ", codec_->resource(), ": ", Msg(meta.status())));
    }
    if (!batch.empty()) sink_(std::move(batch));
    {
      MutexLock lock(&mu_);
      stats_.pages++;
      stats_.bad_objects += bad_count;
    }
    if (meta->continue_token.empty()) {
      rv = meta->resource_version;
      break;
    }
    cont = meta->continue_token;
  }
  // Replace semantics: whatever we knew and the new list lacks is gone.
  std::vector<ClusterEvent> deletes;
  for (const std::string& key : known_) {
    if (!seen.contains(key)) deletes.push_back(codec_->DeleteEvent(key));
  }
  known_ = std::move(seen);
  if (!deletes.empty()) {
    spdlog::info("{}: relist removed {} objects", codec_->resource(), deletes.size());
    sink_(std::move(deletes));
  }
  SetResourceVersion(std::move(rv));
  NoteProgress();
  MutexLock lock(&mu_);
  stats_.lists++;
  return absl::OkStatus();
}

bool Reflector::ApplyLine(std::string_view text, bool* gone, std::string* error) {
  absl::StatusOr<ResourceCodec::Line> line = codec_->DecodeLine(text);
  if (!line.ok()) {
    // Not a watch event at all (a stream cut mid-line, garbage): the stream is
    // broken; end it, and the next watch comes after a back-off.
    *error = StrCat("watch stream broken: ", CutForMessage(Msg(line.status())));
    return false;
  }
  if (line->type == WatchType::kError) {
    if (line->error_code == 410) {
      *gone = true;
    } else {
      *error = StrCat("watch error ", line->error_code, ": ", CutForMessage(line->error_message));
    }
    return false;
  }
  if (line->event.has_value()) {
    if (line->type == WatchType::kDeleted) {
      known_.erase(line->key);
    } else {
      known_.insert(line->key);
    }
    std::vector<ClusterEvent> one;
    one.push_back(std::move(*line->event));
    sink_(std::move(one));
  } else if (line->type == WatchType::kDeleted && !line->key.empty()) {
    // A deleted object that no longer decodes is still gone.
    known_.erase(line->key);
    std::vector<ClusterEvent> one;
    one.push_back(codec_->DeleteEvent(line->key));
    sink_(std::move(one));
  } else if (!line->object_error.ok()) {
    spdlog::warn("{}: skipping object: {}", codec_->resource(), Msg(line->object_error));
    MutexLock lock(&mu_);
    stats_.bad_objects++;
  }
  SetResourceVersion(std::move(line->resource_version));
  NoteProgress();
  MutexLock lock(&mu_);
  stats_.watch_events++;
  return true;
}

Reflector::WatchEnd Reflector::Watch(const Notification* stop, bool* progressed) {
  absl::BitGen gen;
  const int64_t min_s = std::max<int64_t>(1, absl::ToInt64Seconds(opts_.min_watch_timeout));
  const int64_t timeout_s = absl::Uniform<int64_t>(gen, min_s, 2 * min_s);
  const std::string path = StrCat(codec_->path(), "?watch=true&allowWatchBookmarks=true&resourceVersion=",
                                  UrlEncode(resource_version()), "&timeoutSeconds=", timeout_s);
  {
    MutexLock lock(&mu_);
    stats_.watches++;
  }
  bool gone = false;
  std::string error;
  int64_t lines = 0;
  const absl::Time started = clock_->Now();
  // No byte for watch_progress_timeout ends the stream (DeadlineExceeded): the
  // server would have sent a bookmark by then.
  const absl::Duration idle = std::min(opts_.watch_progress_timeout, absl::Seconds(timeout_s + 30));
  absl::StatusOr<HttpResponse> resp = http_->Stream(
      path,
      [&](std::string_view text) {
        const bool go_on = ApplyLine(text, &gone, &error);
        if (go_on) ++lines;
        return go_on;
      },
      stop, idle);
  *progressed = lines > 0;
  const WatchEnd end = WatchOutcome(resp, gone, error, lines, clock_->Now() - started);
  if (end == WatchEnd::kError || end == WatchEnd::kSilent) {
    MutexLock lock(&mu_);
    (end == WatchEnd::kError ? stats_.watch_errors : stats_.silent_watches)++;
    if (end == WatchEnd::kSilent) silent_ = true;
  }
  return end;
}

// How a finished watch ended, logged once.
Reflector::WatchEnd Reflector::WatchOutcome(const absl::StatusOr<HttpResponse>& resp, bool gone,
                                            const std::string& error, int64_t lines, absl::Duration lasted) {
  if (!resp.ok()) {
    if (absl::IsCancelled(resp.status())) return WatchEnd::kCancelled;
    if (absl::IsDeadlineExceeded(resp.status())) {
      spdlog::warn("{}: watch silent for {} (no event or bookmark): taking it as dead, listing again",
                   codec_->resource(), absl::FormatDuration(opts_.watch_progress_timeout));
      return WatchEnd::kSilent;
    }
    spdlog::warn("{}: watch failed: {}", codec_->resource(), Msg(resp.status()));
    return WatchEnd::kError;
  }
  if (gone || resp->status == 410) {
    spdlog::info("{}: resourceVersion {} is gone (410), listing again", codec_->resource(), resource_version());
    MutexLock lock(&mu_);
    stats_.gone++;
    return WatchEnd::kGone;
  }
  if (resp->status != 200) {
    spdlog::warn("{}: {}", codec_->resource(), Msg(ApiError(*resp, "watch")));
    return WatchEnd::kError;
  }
  if (!error.empty()) {
    spdlog::warn("{}: {}", codec_->resource(), error);
    return WatchEnd::kError;
  }
  // Like client-go: a watch that closes at once with nothing in it is an error
  // (back off), not a normal timeout.
  if (lines == 0 && lasted < absl::Seconds(1)) return WatchEnd::kError;
  return WatchEnd::kClosed;
}

}  // namespace drover::k8s
