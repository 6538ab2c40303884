// Pod intent (core/model.h, PodIntent): queue, tier, GPU types and gang decoded
// once when the pod arrives; a malformed value rejects the pod with a reason that
// names the annotation and the value, and the pod is still told (a PendingReason);
// placement.application_label groups pods into applications.
#include "core/strings.h"
#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kTeam = R"(
queues:
  children:
    - name: team
)";

// The reason the engine gave `key` in `d`, or "" if it gave none.
std::string ReasonFor(const Decisions& d, const std::string& key) {
  for (const PendingReason& p : d.pending) {
    if (p.pod_key == key) return p.message;
  }
  return "";
}

}  // namespace

TEST_CASE("decode_pod_intent_reads_typed_fields", "[placement][intent]") {
  Pod p = GangMember("train", 0, 4, "root.team", 2, "a10+");
  p.annotations.Set("drover.io/tier", "2");
  DecodePodIntent(&p);
  CHECK(p.intent.invalid.empty());
  CHECK(p.intent.queue == "root.team");
  CHECK(p.intent.tier == 2);
  CHECK(p.intent.gpu_type == "a10+");
  CHECK(p.intent.gang == "train");
  CHECK(p.intent.gang_min_members == 4);
  SECTION("absent annotations leave the defaults") {
    Pod q = GpuPod("q", "", 1);
    DecodePodIntent(&q);
    CHECK(q.intent == PodIntent{});
  }
  SECTION("decoding again after the annotations changed reads the new values") {
    p.annotations.Set("drover.io/tier", "0");
    DecodePodIntent(&p);
    CHECK(p.intent.tier == 0);
  }
}

TEST_CASE("malformed_gang_min_members_rejects_the_pod_naming_the_value", "[placement][intent]") {
  for (const char* bad : {"-3", "abc", "0", "2x", ""}) {
    Harness h(kTeam);
    h.AddNode(GpuNode("a100-0", kA100, 8));
    Pod p = GangMember("train", 0, 1, "team", 1);
    p.annotations.Set("drover.io/gang-min-members", bad);
    h.AddPod(p);
    const Decisions d = h.Cycle();
    INFO(bad);
    CHECK_FALSE(h.Bound("ns/train-0"));  // silently scheduled before
    CHECK(ReasonFor(d, "ns/train-0") == StrCat("rejected: pod ns/train-0: annotation drover.io/gang-min-members: \"",
                                               bad, "\" is not a positive integer"));
    CHECK(h.engine->stats().rejected == 1);
  }
}

TEST_CASE("a_malformed_member_is_rejected_alone_its_gang_goes_on", "[placement][intent]") {
  Harness h(kTeam);
  h.AddNode(GpuNode("a100-0", kA100, 8));
  for (int i = 0; i < 2; ++i) h.AddPod(GangMember("train", i, 2, "team", 1));
  Pod bad = GangMember("train", 2, 2, "team", 1);
  bad.annotations.Set("drover.io/gang-min-members", "two");
  h.AddPod(bad);
  const Decisions d = h.Cycle();
  CHECK(h.Bound("ns/train-0"));
  CHECK(h.Bound("ns/train-1"));
  CHECK_FALSE(h.Bound("ns/train-2"));
  CHECK_THAT(ReasonFor(d, "ns/train-2"), Catch::Contains("annotation drover.io/gang-min-members: \"two\""));
}

TEST_CASE("malformed_tier_and_empty_queue_are_rejected_with_the_annotation", "[placement][intent]") {
  Harness h(kTeam);
  h.AddNode(GpuNode("a100-0", kA100, 8));
  Pod tier = GpuPod("tier", "team", 1);
  tier.annotations.Set("drover.io/tier", "high");
  Pod queue = GpuPod("queue", "", 1);
  queue.annotations.Set("drover.io/queue", "");
  h.AddPod(tier);
  h.AddPod(queue);
  const Decisions d = h.Cycle();
  CHECK(ReasonFor(d, "ns/tier") == "rejected: pod ns/tier: annotation drover.io/tier: \"high\" must be 0, 1 or 2");
  CHECK(ReasonFor(d, "ns/queue") == "rejected: pod ns/queue: annotation drover.io/queue: \"\" is not a queue path");
  CHECK_FALSE(h.Bound("ns/tier"));
  CHECK_FALSE(h.Bound("ns/queue"));
}

TEST_CASE("decode_pod_keeps_a_pod_with_a_bad_gpu_fraction_for_the_engine_to_reject", "[placement][intent]") {
  Pod p = GpuPod("frac", "team", 0);
  p.annotations.Set("drover.io/gpu-fraction", "1.5");
  const absl::Status s = DecodePod(&p);
  CHECK_FALSE(s.ok());
  CHECK(std::string(s.message()) == "pod ns/frac: annotation drover.io/gpu-fraction: \"1.5\" must be a fraction in (0, 1]");
  CHECK(p.intent.invalid == std::string(s.message()));
  // The engine rejects it with that reason (the actuator then tells the pod).
  Harness h(kTeam);
  h.AddNode(GpuNode("a100-0", kA100, 8));
  h.AddPod(p);
  const Decisions d = h.Cycle();
  CHECK(ReasonFor(d, "ns/frac") == StrCat("rejected: ", s.message()));
  SECTION("a valid fraction decodes to a shared-GPU shape") {
    Pod ok = GpuPod("ok", "team", 0);
    ok.annotations.Set("drover.io/gpu-fraction", "0.25");
    REQUIRE(DecodePod(&ok).ok());
    CHECK(ok.gpu_devices == 1);
    CHECK(ok.gpu_milli_per_device == 250);
  }
}

TEST_CASE("application_label_groups_pods_into_one_application", "[placement][intent][queues]") {
  Harness h(R"(
placement:
  application_label: example.com/app
queues:
  children:
    - name: team
      limits: {max_running_apps: 1}
)");
  h.AddNode(GpuNode("a100-0", kA100, 8));
  // Three bare pods (no owner, no gang): without the label, three applications.
  auto labelled = [](const std::string& name, const std::string& app) {
    Pod p = GpuPod(name, "team", 1);
    if (!app.empty()) p.labels.Set("example.com/app", app);
    return p;
  };
  h.AddPod(labelled("a-0", "pipeline"));
  h.AddPod(labelled("a-1", "pipeline"));
  h.AddPod(labelled("b-0", "other"));
  h.AddPod(labelled("c-0", ""));
  h.Cycle();
  // One application may run: both pods labelled "pipeline" are that application.
  CHECK(h.Bound("ns/a-0"));
  CHECK(h.Bound("ns/a-1"));
  CHECK_FALSE(h.Bound("ns/b-0"));
  CHECK_FALSE(h.Bound("ns/c-0"));  // unlabelled: the pod is its own application
  const Queue& team = h.engine->queues().queue(h.engine->queues().Find("root.team"));
  CHECK(team.running_apps == 1);
  CHECK(team.pending_apps == 2);
}
