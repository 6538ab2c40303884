// Integration tests of the informers against the fake API server.
#include "k8s/informer.h"

#include <catch2/catch.hpp>

#include "core/strings.h"
#include "k8s/fake_clock.h"
#include "tests/k8s/cluster_mirror.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

ReflectorOptions FastReflector(int page_size = 7) {
  ReflectorOptions o;
  o.page_size = page_size;
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(200);
  return o;
}

void CreatePod(HttpClient* http, const std::string& name) {
  absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{
      .method = "POST",
      .path = "/api/v1/namespaces/default/pods",
      .body = StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")", name,
                     R"("},"spec":{"schedulerName":"drover","containers":[{"name":"c","image":"x",)",
                     R"("resources":{"requests":{"cpu":"2"}}}]}})")});
  REQUIRE(r.ok());
  REQUIRE(r->status == 201);
}

void DeletePod(HttpClient* http, const std::string& name) {
  absl::StatusOr<HttpResponse> r =
      http->Send(HttpRequest{.method = "DELETE", .path = "/api/v1/namespaces/default/pods/" + name});
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
}

void BindPod(HttpClient* http, const std::string& name, const std::string& node) {
  absl::StatusOr<HttpResponse> r = http->Send(HttpRequest{
      .method = "POST",
      .path = "/api/v1/namespaces/default/pods/" + name + "/binding",
      .body = StrCat(R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":")", name,
                     R"("},"target":{"kind":"Node","name":")", node, R"("}})")});
  REQUIRE(r.ok());
  REQUIRE(r->status == 201);
}

// Drains the source into the mirror until it matches the server's pods.
bool Converges(KubeClusterSource& source, ClusterMirror& mirror, HttpClient* http) {
  return WaitUntil([&] {
    std::vector<ClusterEvent> events;
    source.Drain(&events);
    mirror.Apply(events);
    return MirrorPods(mirror) == ServerPods(http);
  });
}

struct Fixture {
  FakeApiServer server;
  std::unique_ptr<HttpClient> http;

  explicit Fixture(int nodes, int pods, std::vector<std::string> args = {"--bookmark-interval", "0.2"}) {
    REQUIRE(server.Start(args).ok());
    http = server.Client();
    REQUIRE(http != nullptr);
    REQUIRE(server.Control("/_control/objects",
                           StrCat(R"({"generate":{"nodes":)", nodes, R"(,"pods":)", pods, "}}"))
                .ok());
  }
};

TEST_CASE("informer_lists_in_pages_syncs_and_follows_the_watch", "[k8s][informer][integration]") {
  Fixture f(3, 50);
  KubeClusterSource source(f.http.get(), {"nvidia.com/gpu.product"}, FastReflector(7));
  CHECK_FALSE(source.Synced());
  source.Start();
  REQUIRE(WaitUntil([&] { return source.Synced(); }));

  ClusterMirror mirror;
  std::vector<ClusterEvent> events;
  source.Drain(&events);
  mirror.Apply(events);
  CHECK(mirror.nodes.size() == 3);
  CHECK(mirror.pods.size() == 50);
  CHECK(source.pods().stats().pages == 8);  // 50 pods, 7 per page
  CHECK(mirror.nodes["node-0"].gpu_count == 8);
  CHECK(mirror.pods["default/pod-0"].requests[Res::kGpu] == 1000);  // limit-only GPU request

  CreatePod(f.http.get(), "new-1");
  DeletePod(f.http.get(), "pod-3");
  BindPod(f.http.get(), "pod-5", "node-1");
  REQUIRE(Converges(source, mirror, f.http.get()));
  CHECK(mirror.pods["default/new-1"].requests[Res::kCpu] == 2000);
  CHECK(mirror.pods["default/pod-5"].node_name == "node-1");
  CHECK(mirror.pods.count("default/pod-3") == 0);
  CHECK(source.pods().stats().lists == 1);
  // Bookmarks keep arriving and count as watch events.
  const int64_t before = source.pods().stats().watch_events;
  REQUIRE(WaitUntil([&] { return source.pods().stats().watch_events > before + 2; }));
  CHECK(source.pods().stats().gone == 0);
  source.Stop();
}

void SendOk(HttpClient* http, const std::string& method, const std::string& path, const std::string& body,
            const std::string& content_type = "application/json") {
  absl::StatusOr<HttpResponse> r =
      http->Send(HttpRequest{.method = method, .path = path, .body = body, .content_type = content_type});
  REQUIRE(r.ok());
  REQUIRE((r->status == 200 || r->status == 201));
}

TEST_CASE("informer_delivers_namespace_labels_and_syncs_without_them_when_their_list_fails",
          "[k8s][informer][integration]") {
  Fixture f(1, 2);
  SendOk(f.http.get(), "POST", "/api/v1/namespaces",
         R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a","labels":{"team":"a"}}})");
  // No RBAC for namespaces (403 on every list): the source syncs on nodes and pods alone.
  REQUIRE(f.server.Control("/_control/faults", R"({"fail_next":{"path_regex":"^/api/v1/namespaces$","verb":"list",
                                                   "code":403,"count":100000}})")
              .ok());
  KubeClusterSource source(f.http.get(), {}, FastReflector());
  source.Start();
  REQUIRE(WaitUntil([&] { return source.Synced(); }));
  CHECK_FALSE(source.namespaces().synced());
  CHECK(source.namespaces().stats().list_errors >= 1);
  CHECK(source.Healthy());

  // The rule is granted: the retried list brings the labels, then the watch their changes.
  REQUIRE(f.server.Control("/_control/faults", R"({"fail_next":[]})").ok());
  ClusterMirror mirror;
  auto team_of = [&](const std::string& ns) {
    std::vector<ClusterEvent> events;
    source.Drain(&events);
    mirror.Apply(events);
    auto it = mirror.namespaces.find(ns);
    const std::string* t = it == mirror.namespaces.end() ? nullptr : it->second.Get("team");
    return t == nullptr ? std::string("(none)") : *t;
  };
  REQUIRE(WaitUntil([&] { return team_of("team-a") == "a"; }));
  CHECK(*mirror.namespaces["team-a"].Get("kubernetes.io/metadata.name") == "team-a");
  SendOk(f.http.get(), "PATCH", "/api/v1/namespaces/team-a", R"({"metadata":{"labels":{"team":"b"}}})",
         "application/merge-patch+json");
  REQUIRE(WaitUntil([&] { return team_of("team-a") == "b"; }));
  SendOk(f.http.get(), "DELETE", "/api/v1/namespaces/team-a", "");
  REQUIRE(WaitUntil([&] {
    team_of("team-a");
    return mirror.namespaces.count("team-a") == 0;
  }));
  source.Stop();
}

TEST_CASE("informer_relists_after_410_with_replace_semantics", "[k8s][informer][integration]") {
  Fixture f(2, 20);
  KubeClusterSource source(f.http.get(), {}, FastReflector(6));
  source.Start();
  REQUIRE(WaitUntil([&] { return source.Synced(); }));
  ClusterMirror mirror;
  REQUIRE(Converges(source, mirror, f.http.get()));

  // Cut the pod watch off and keep it off while the cluster changes.
  REQUIRE(f.server.Control("/_control/faults",
                           R"({"fail_next":{"path_regex":"^/api/v1/pods$","verb":"watch","code":503,"count":100000},
                               "drop_watches":true})")
              .ok());
  CreatePod(f.http.get(), "extra-1");
  DeletePod(f.http.get(), "pod-2");
  DeletePod(f.http.get(), "pod-7");
  BindPod(f.http.get(), "pod-4", "node-0");
  // Forget history: the reflector's resourceVersion is now too old (410).
  REQUIRE(f.server.Control("/_control/faults", R"({"fail_next":[],"compact":true})").ok());

  REQUIRE(Converges(source, mirror, f.http.get()));
  CHECK(source.pods().stats().gone >= 1);
  CHECK(source.pods().stats().lists >= 2);
  CHECK(mirror.pods["default/pod-4"].node_name == "node-0");
  CHECK(mirror.pods.count("default/extra-1") == 1);
  // Exactly the vanished pods were deleted, once each.
  std::sort(mirror.deleted_pods.begin(), mirror.deleted_pods.end());
  CHECK(mirror.deleted_pods == std::vector<std::string>{"default/pod-2", "default/pod-7"});
  CHECK(mirror.pods.size() == 19);
}

TEST_CASE("informer_resumes_a_dropped_watch_without_relisting", "[k8s][informer][integration]") {
  Fixture f(1, 10);
  KubeClusterSource source(f.http.get(), {}, FastReflector());
  source.Start();
  REQUIRE(WaitUntil([&] { return source.Synced(); }));
  ClusterMirror mirror;
  REQUIRE(Converges(source, mirror, f.http.get()));
  const int64_t watches = source.pods().stats().watches;

  for (int i = 0; i < 3; ++i) {
    REQUIRE(f.server.Control("/_control/faults", R"({"drop_watches":true})").ok());
    CreatePod(f.http.get(), StrCat("after-drop-", i));
    REQUIRE(Converges(source, mirror, f.http.get()));
  }
  CHECK(source.pods().stats().watches > watches);
  CHECK(source.pods().stats().lists == 1);
  CHECK(source.pods().stats().gone == 0);
  CHECK(mirror.pods.size() == 13);
  CHECK(mirror.pod_deletes == 0);
}

TEST_CASE("informer_restarts_a_list_whose_continue_token_expired", "[k8s][informer][integration]") {
  Fixture f(1, 30);
  // Slow pages so the history can be compacted in the middle of the list.
  REQUIRE(f.server.Control("/_control/faults", R"({"latency_ms":300,"paths":"^/api/v1/pods$","methods":"GET"})").ok());
  KubeClusterSource source(f.http.get(), {}, FastReflector(5));
  source.Start();
  REQUIRE(WaitUntil([&] { return source.pods().stats().pages >= 1; }));
  REQUIRE(f.server.Control("/_control/faults", R"({"compact":true})").ok());
  REQUIRE(WaitUntil([&] { return source.Synced(); }));
  REQUIRE(f.server.Control("/_control/faults", R"({"clear":true})").ok());
  ClusterMirror mirror;
  REQUIRE(Converges(source, mirror, f.http.get()));
  CHECK(mirror.pods.size() == 30);
  CHECK(source.pods().stats().pages > 6);  // 6 pages, plus the restarted ones
  CHECK(mirror.pod_deletes == 0);
}

TEST_CASE("informer_skips_objects_that_do_not_decode", "[k8s][informer][integration]") {
  Fixture f(1, 5);
  REQUIRE(f.server.Control("/_control/objects", R"({"objects":[{"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"broken","namespace":"default"},
      "spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"lots"}}}]}}]})")
              .ok());
  KubeClusterSource source(f.http.get(), {}, FastReflector());
  source.Start();
  REQUIRE(WaitUntil([&] { return source.Synced(); }));
  ClusterMirror mirror;
  std::vector<ClusterEvent> events;
  source.Drain(&events);
  mirror.Apply(events);
  CHECK(mirror.pods.size() == 5);
  CHECK(mirror.pods.count("default/broken") == 0);
  CHECK(source.pods().stats().bad_objects == 1);
  // The informer keeps working after the bad object.
  CreatePod(f.http.get(), "good-1");
  REQUIRE(WaitUntil([&] {
    source.Drain(&events);
    mirror.Apply(events);
    return mirror.pods.count("default/good-1") == 1;
  }));
}

TEST_CASE("informer_backs_off_after_watches_broken_mid_line_and_resets_after_progress",
          "[k8s][informer][integration]") {
  // Before: a stream cut mid-line logged a bad line and counted as a normal close,
  // so the pods were watched again at once, 591 times in 10 s (issue 21 item 14).
  Fixture f(1, 3);
  REQUIRE(f.server.Control("/_control/faults",
                           R"({"watch_faults":{"mode":"cut","path_regex":"^/api/v1/pods\\?watch","count":5}})")
              .ok());
  FakeClock clock;
  ReflectorOptions opts;  // the production back-off: 800 ms doubling to 30 s, jitter x[1, 1.5)
  opts.clock = &clock;
  KubeClusterSource source(f.http.get(), {}, opts);
  source.Start();
  absl::Duration expected = absl::Milliseconds(800);
  for (size_t i = 0; i < 5; ++i) {
    REQUIRE(clock.WaitForSleepCalls(i + 1));
    const absl::Duration slept = clock.sleeps()[i];
    INFO("back-off " << i << ": " << absl::FormatDuration(slept));
    CHECK(slept >= expected);
    CHECK(slept < expected * 1.5);
    CHECK(source.pods().stats().watches == static_cast<int64_t>(i + 1));
    expected *= 2;
    clock.Advance(slept);
  }
  CHECK(source.pods().stats().watch_errors == 5);
  // The sixth watch works: events flow, and no back-off follows.
  ClusterMirror mirror;
  CreatePod(f.http.get(), "after-the-cuts");
  REQUIRE(Converges(source, mirror, f.http.get()));
  CHECK(clock.sleeps().size() == 5);
  // It delivered events (and bookmarks): when it breaks, back-off starts over at 800 ms.
  REQUIRE(WaitUntil([&] { return source.pods().stats().watch_events > 0; }));
  REQUIRE(f.server.Control("/_control/faults", R"({"drop_watches":true})").ok());
  // The three watches (nodes, pods, namespaces) are dropped, so every reflector backs
  // off: wait for all three sleeps, or the advance may come before the pods' and never wake it.
  REQUIRE(clock.WaitForSleepCalls(8));
  CHECK(clock.sleeps()[5] < absl::Milliseconds(1200));
  CHECK(clock.sleeps()[6] < absl::Milliseconds(1200));
  CHECK(clock.sleeps()[7] < absl::Milliseconds(1200));
  clock.Advance(absl::Seconds(2));
  CreatePod(f.http.get(), "after-the-drop");
  REQUIRE(Converges(source, mirror, f.http.get()));
  CHECK(source.pods().stats().lists == 1);
  CHECK(source.pods().healthy());
}

TEST_CASE("informer_relists_after_a_silent_watch_and_is_unhealthy_meanwhile", "[k8s][informer][integration]") {
  // Before: a watch that sent its headers and then nothing went unnoticed for over
  // 8 minutes, new pods unseen, /readyz 200 (issue 21 item 15).
  Fixture f(1, 3);
  ReflectorOptions opts = FastReflector();
  opts.watch_progress_timeout = absl::Milliseconds(1500);  // bookmarks come every 200 ms here
  KubeClusterSource source(f.http.get(), {}, opts);
  source.Start();
  REQUIRE(WaitUntil([&] { return source.Synced(); }));
  ClusterMirror mirror;
  REQUIRE(Converges(source, mirror, f.http.get()));
  CHECK(source.Healthy());
  const absl::Time progress = source.pods().last_progress();
  REQUIRE(WaitUntil([&] { return source.pods().last_progress() > progress; }));  // bookmarks count

  // The next pods watch goes silent; the list that follows it is slow.
  REQUIRE(f.server.Control("/_control/faults",
                           R"({"watch_faults":{"mode":"silent","path_regex":"^/api/v1/pods\\?watch","count":1}})")
              .ok());
  REQUIRE(f.server.Control("/_control/faults", R"({"drop_watches":true})").ok());
  CreatePod(f.http.get(), "missed-by-the-silent-watch");
  REQUIRE(f.server.Control("/_control/faults", R"({"latency_ms":2500,"paths":"^/api/v1/pods$","methods":"GET"})").ok());
  REQUIRE(WaitUntil([&] { return !source.pods().healthy(); }));
  CHECK_FALSE(source.Healthy());
  CHECK(source.pods().stats().silent_watches >= 1);
  REQUIRE(Converges(source, mirror, f.http.get()));  // the relist brought the missed pod
  CHECK(source.pods().stats().lists == 2);
  REQUIRE(WaitUntil([&] { return source.Healthy(); }));
  CHECK(mirror.pods.size() == 4);
}

}  // namespace
}  // namespace drover::k8s::testing
