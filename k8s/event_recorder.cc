#include "k8s/event_recorder.h"

#include <unistd.h>

#include "absl/strings/str_format.h"
#include "core/strings.h"
#include "k8s/api_status.h"
#include "k8s/json_util.h"

namespace drover::k8s {
namespace {

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

std::string EventsPath(std::string_view ns) { return StrCat("/api/v1/namespaces/", ns, "/events"); }

EventOptions WithInstance(EventOptions opts) {
  if (opts.instance.empty()) opts.instance = HostName();
  return opts;
}

}  // namespace

EventRecorder::EventRecorder(HttpClient* http, const Clock* clock, EventOptions opts)
    : http_(http), clock_(clock), opts_(WithInstance(std::move(opts))) {}

void EventRecorder::Remember(const std::string& key, Seen seen) {
  MutexLock lock(&mu_);
  auto [it, inserted] = seen_.insert_or_assign(key, std::move(seen));
  if (inserted) order_.push_back(key);
  while (order_.size() > opts_.cache_size) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
}

absl::Status EventRecorder::Record(const ObjectRef& pod, std::string_view type, std::string_view reason,
                                   std::string_view action, std::string_view message) {
  const std::string key = StrCat(pod.namespace_, "/", pod.name, "/", pod.uid, "\x1f", type, "\x1f", reason, "\x1f",
                                 message);
  Seen prev;
  bool have_prev = false;
  {
    MutexLock lock(&mu_);
    auto it = seen_.find(key);
    if (it != seen_.end()) {
      prev = it->second;
      have_prev = true;
    }
  }
  if (!have_prev) return Create(pod, type, reason, action, message, key);
  const std::string now = FormatRfc3339(absl::FromUnixMillis(clock_->NowMillis()));
  const int64_t count = prev.count + 1;
  HttpRequest req{.method = "PATCH",
                  .path = StrCat(EventsPath(pod.namespace_), "/", prev.event_name),
                  .body = StrCat("{\"count\":", count, ",\"lastTimestamp\":", JsonQuote(now), "}"),
                  .content_type = "application/strategic-merge-patch+json"};
  absl::StatusOr<HttpResponse> resp = http_->Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status == 404) return Create(pod, type, reason, action, message, key);  // expired: write anew
  if (resp->status != 200) return ApiError(*resp, StrCat("update event ", prev.event_name));
  prev.count = count;
  Remember(key, std::move(prev));
  return absl::OkStatus();
}

absl::Status EventRecorder::Create(const ObjectRef& pod, std::string_view type, std::string_view reason,
                                   std::string_view action, std::string_view message, const std::string& key) {
  const absl::Time now = absl::FromUnixMillis(clock_->NowMillis());
  const std::string ts = FormatRfc3339(now);
  // Named like client-go's recorder: <object>.<unix nanos in hex>.
  const std::string name = absl::StrFormat("%s.%x", pod.name, absl::ToUnixNanos(absl::Now()));
  std::string body = StrCat(
      "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":", JsonQuote(name),
      ",\"namespace\":", JsonQuote(pod.namespace_), "},\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\"",
      ",\"namespace\":", JsonQuote(pod.namespace_), ",\"name\":", JsonQuote(pod.name));
  if (!pod.uid.empty()) StrAppend(&body, ",\"uid\":", JsonQuote(pod.uid));
  StrAppend(&body, "},\"type\":", JsonQuote(type), ",\"reason\":", JsonQuote(reason), ",\"action\":",
            JsonQuote(action), ",\"message\":", JsonQuote(message), ",\"source\":{\"component\":",
            JsonQuote(opts_.component), "},\"reportingComponent\":", JsonQuote(opts_.component),
            ",\"reportingInstance\":", JsonQuote(opts_.instance), ",\"firstTimestamp\":", JsonQuote(ts),
            ",\"lastTimestamp\":", JsonQuote(ts), ",\"count\":1}");
  absl::StatusOr<HttpResponse> resp =
      http_->Send(HttpRequest{.method = "POST", .path = EventsPath(pod.namespace_), .body = std::move(body)});
  if (!resp.ok()) return resp.status();
  if (resp->status != 201 && resp->status != 200) return ApiError(*resp, StrCat("create event for pod ", pod.name));
  Remember(key, Seen{name, 1, ts});
  return absl::OkStatus();
}

}  // namespace drover::k8s
