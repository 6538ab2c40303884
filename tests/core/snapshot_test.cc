#include <catch2/catch.hpp>

#include <set>

#include "core/gpu_catalog.h"
#include "core/quantity.h"
#include "core/snapshot.h"

using namespace drover;

namespace {
Node GpuNode(const std::string& name, int gpus, const std::string& product = "NVIDIA-A100-SXM4-80GB") {
  Node n;
  n.name = name;
  n.allocatable[Res::kCpu] = 64000;
  n.allocatable[Res::kMemory] = 256LL << 30;
  n.allocatable[Res::kPods] = 110;
  n.allocatable[Res::kGpu] = gpus * 1000;
  n.gpu_count = gpus;
  n.gpu_product = product;
  return n;
}
Pod GpuPod(const std::string& name, int gpus, const std::string& node = "") {
  Pod p;
  p.namespace_ = "ns";
  p.name = name;
  p.node_name = node;
  p.phase = node.empty() ? PodPhase::kPending : PodPhase::kRunning;
  p.requests[Res::kCpu] = 1000;
  p.requests[Res::kMemory] = 1LL << 30;
  p.requests[Res::kPods] = 1;
  p.requests[Res::kGpu] = gpus * 1000;
  p.gpu_devices = gpus;
  p.gpu_milli_per_device = gpus ? 1000 : 0;
  return p;
}
}  // namespace

TEST_CASE("gpu_catalog_maps_product_labels_to_canonical_types", "[catalog]") {
  GpuCatalog c = GpuCatalog::Default();
  CHECK(c.type(c.MatchProduct("NVIDIA-A100-SXM4-80GB")).name == "A100");
  CHECK(c.type(c.MatchProduct("NVIDIA-A100-PCIE-40GB")).name == "A100");
  CHECK(c.type(c.MatchProduct("Tesla-T4")).name == "T4");
  CHECK(c.type(c.MatchProduct("NVIDIA-A10G")).name == "A10G");
  CHECK(c.type(c.MatchProduct("NVIDIA-H100-80GB-HBM3")).name == "H100");
  CHECK(c.MatchProduct("NVIDIA-RTX-A6000") == kNoGpuType);
  std::string warning;
  const GpuTypeId t = c.TypeForProduct("NVIDIA-RTX-A6000", &warning);
  REQUIRE(t != kNoGpuType);
  CHECK_FALSE(c.type(t).known);
  CHECK(warning.find("NVIDIA-RTX-A6000") != std::string::npos);
  REQUIRE(c.AddClass("a10+", {}, "A10").ok());
  auto mask = c.ResolveRequest("a10+");
  REQUIRE(mask.ok());
  CHECK((*mask & (GpuTypeMask{1} << c.FindType("A100"))) != 0);
  CHECK((*mask & (GpuTypeMask{1} << c.FindType("T4"))) == 0);
  CHECK((*mask & (GpuTypeMask{1} << t)) == 0);  // unknown types are in no class
  CHECK(c.ByRank(*mask).front() == c.FindType("A10"));
  CHECK_FALSE(c.ResolveRequest("b300").ok());
}

TEST_CASE("snapshot_counts_bound_pods_and_is_idempotent", "[snapshot]") {
  GpuCatalog catalog = GpuCatalog::Default();
  Snapshot s(&catalog);
  s.UpsertNode(GpuNode("n1", 8));
  const Pod p = GpuPod("a", 2, "n1");
  s.UpsertPod(p);
  s.UpsertPod(p);  // replay
  const NodeId n1 = s.FindNode("n1");
  CHECK(s.Free(n1)[Res::kGpu] == 6000);
  CHECK(s.FreeWholeGpus(n1) == 6);
  s.UpsertNode(GpuNode("n1", 8));  // replay of the node
  CHECK(s.Free(n1)[Res::kGpu] == 6000);
  Pod done = p;
  done.phase = PodPhase::kSucceeded;
  s.UpsertPod(done);
  CHECK(s.Free(n1)[Res::kGpu] == 8000);
  s.DeletePod(p.Key());
  s.DeletePod(p.Key());
  CHECK(s.live_pods() == 0);
  CHECK(s.CheckInvariants().empty());
}

TEST_CASE("snapshot_counts_pods_that_arrive_before_their_node", "[snapshot]") {
  GpuCatalog catalog = GpuCatalog::Default();
  Snapshot s(&catalog);
  s.UpsertPod(GpuPod("early", 4, "late-node"));
  s.UpsertNode(GpuNode("late-node", 8));
  CHECK(s.Free(s.FindNode("late-node"))[Res::kGpu] == 4000);
  s.DeleteNode("late-node");
  s.UpsertNode(GpuNode("late-node", 8));
  CHECK(s.Free(s.FindNode("late-node"))[Res::kGpu] == 4000);
  CHECK(s.CheckInvariants().empty());
}

TEST_CASE("snapshot_assume_and_forget_roll_back_exactly", "[snapshot]") {
  GpuCatalog catalog = GpuCatalog::Default();
  Snapshot s(&catalog);
  s.UpsertNode(GpuNode("n1", 8));
  s.UpsertPod(GpuPod("p", 3));
  const NodeId n1 = s.FindNode("n1");
  REQUIRE(s.Assume("ns/p", n1, {1, 2, 5}).ok());
  CHECK(s.node(n1).device_used[5] == 1000);
  CHECK(s.FreeWholeGpus(n1) == 5);
  // A stale pending version of the pod from the watch does not undo the assumption.
  s.UpsertPod(GpuPod("p", 3));
  CHECK(s.FreeWholeGpus(n1) == 5);
  s.Forget("ns/p");
  CHECK(s.FreeWholeGpus(n1) == 8);
  CHECK_FALSE(s.Assume("ns/missing", n1, {}).ok());
  CHECK(s.CheckInvariants().empty());
}

TEST_CASE("snapshot_invariant_check_reports_over_commit", "[snapshot]") {
  GpuCatalog catalog = GpuCatalog::Default();
  Snapshot s(&catalog);
  s.UpsertNode(GpuNode("n1", 2));
  s.UpsertPod(GpuPod("a", 2, "n1"));
  s.UpsertPod(GpuPod("b", 1, "n1"));
  auto problems = s.CheckInvariants();
  REQUIRE_FALSE(problems.empty());
  CHECK(problems[0].find("n1 over-committed") != std::string::npos);
}

TEST_CASE("pod_requests_follow_kubernetes_rules", "[model]") {
  ResourceVec a, b, init_big, sidecar, overhead;
  a[Res::kCpu] = 1000;
  b[Res::kCpu] = 500;
  init_big[Res::kCpu] = 2000;
  sidecar[Res::kCpu] = 300;
  overhead[Res::kCpu] = 100;
  // max(sum of containers, largest init) + overhead
  ResourceVec r = EffectiveRequests({{init_big, false}}, {{a, false}, {b, false}}, overhead);
  CHECK(r[Res::kCpu] == 2100);
  CHECK(r[Res::kPods] == 1);
  // a sidecar runs beside the app containers and the later init containers
  r = EffectiveRequests({{sidecar, true}, {init_big, false}}, {{a, false}}, {});
  CHECK(r[Res::kCpu] == 2300);
  // Sums never wrap into a (negative) request that fits anywhere: they stop at the int64 end.
  ResourceVec huge;
  huge[Res::kMemory] = INT64_MAX / 2 + 1;
  r = EffectiveRequests({}, {{huge, false}, {huge, false}, {a, false}}, huge);
  CHECK(r[Res::kMemory] == INT64_MAX);
  r = EffectiveRequests({{huge, true}, {huge, false}}, {{huge, false}}, {});
  CHECK(r[Res::kMemory] == INT64_MAX);
}

TEST_CASE("taints_tolerations_and_affinity_match_like_kubernetes", "[model]") {
  Taint t{"gpu", "reserved", TaintEffect::kNoSchedule};
  CHECK(Tolerates(Toleration{"gpu", Toleration::Op::kEqual, "reserved", std::nullopt}, t));
  CHECK_FALSE(Tolerates(Toleration{"gpu", Toleration::Op::kEqual, "other", std::nullopt}, t));
  CHECK(Tolerates(Toleration{"gpu", Toleration::Op::kExists, "", std::nullopt}, t));
  CHECK(Tolerates(Toleration{"", Toleration::Op::kExists, "", std::nullopt}, t));
  CHECK_FALSE(Tolerates(Toleration{"gpu", Toleration::Op::kExists, "", TaintEffect::kNoExecute}, t));
  CHECK(FirstUntoleratedTaint({Taint{"x", "", TaintEffect::kPreferNoSchedule}}, {}) == nullptr);
  Node n;
  n.name = "n";
  n.labels.Set("zone", "a");
  n.labels.Set("gpus", "8");
  using Op = NodeSelectorRequirement::Op;
  CHECK(MatchesRequiredAffinity({NodeSelectorTerm{{{"zone", Op::kIn, {"a", "b"}}}, {}}}, n));
  CHECK_FALSE(MatchesRequiredAffinity({NodeSelectorTerm{{{"zone", Op::kNotIn, {"a"}}}, {}}}, n));
  CHECK(MatchesRequiredAffinity({NodeSelectorTerm{{{"gpus", Op::kGt, {"4"}}}, {}}}, n));
  CHECK_FALSE(MatchesRequiredAffinity({NodeSelectorTerm{{{"gpus", Op::kLt, {"4"}}}, {}}}, n));
  CHECK(MatchesRequiredAffinity({NodeSelectorTerm{{{"missing", Op::kDoesNotExist, {}}}, {}}}, n));
  CHECK_FALSE(MatchesRequiredAffinity({NodeSelectorTerm{}}, n));  // an empty term matches nothing
  CHECK(MatchesRequiredAffinity({NodeSelectorTerm{{}, {{"metadata.name", Op::kIn, {"n"}}}}}, n));
}

TEST_CASE("snapshot_node_usage_that_would_overflow_is_held_full_not_wrapped", "[snapshot]") {
  // Before: two bound pods of 7Ei memory wrapped the node's usage negative, so the
  // node looked free (issue 21 item 3).
  GpuCatalog catalog = GpuCatalog::Default();
  Snapshot s(&catalog);
  s.UpsertNode(GpuNode("n1", 8));
  const int64_t seven_ei = int64_t{7} << 60;
  Pod a = GpuPod("a", 0, "n1");
  a.requests[Res::kMemory] = seven_ei;
  Pod b = a;
  b.name = "b";
  s.UpsertPod(a);
  s.UpsertPod(b);
  const NodeId n = s.FindNode("n1");
  CHECK(s.node(n).used[Res::kMemory] == INT64_MAX);
  CHECK(s.Free(n)[Res::kMemory] < 0);
  CHECK(s.node(n).used[Res::kCpu] == 2000);  // the other dimensions still add up exactly
  s.DeletePod("ns/b");
  CHECK(s.node(n).used[Res::kMemory] == seven_ei);
  CHECK_FALSE(s.node(n).used_saturated);
  s.DeletePod("ns/a");
  CHECK(s.node(n).used.IsZero());
  CHECK(SaturatingAdd(INT64_MAX - 1, 5) == INT64_MAX);
  CHECK(SaturatingAdd(INT64_MIN + 1, -5) == INT64_MIN);
  CHECK(SaturatingAdd(40, 2) == 42);
}

TEST_CASE("snapshot_keeps_a_node_over_the_gpu_limit_out_without_per_device_state", "[snapshot]") {
  // A node from any source (simulator, a test) claiming 10^9 GPUs: no allocation of
  // that size, not schedulable, and a warning naming node, field and value.
  GpuCatalog catalog = GpuCatalog::Default();
  Snapshot s(&catalog);
  Node n = GpuNode("liar", 0);
  n.allocatable[Res::kGpu] = int64_t{1000000000} * 1000;
  n.gpu_count = 1000000000;
  const std::string warning = s.UpsertNode(n);
  CHECK(warning == "node liar: status.allocatable nvidia.com/gpu: 1000000000 GPUs is above the limit of 1024 per "
                   "node; the node is not schedulable and its GPUs are not counted");
  const NodeState& st = s.node(s.FindNode("liar"));
  CHECK(st.device_used.empty());
  CHECK(st.node.unschedulable);
  CHECK(st.node.allocatable[Res::kGpu] == 0);
  CHECK(s.UpsertNode(n).empty());  // said once
  Node fixed = GpuNode("liar", 8);
  CHECK(s.UpsertNode(fixed).empty());
  CHECK(s.node(s.FindNode("liar")).device_used.size() == 8);
  CHECK_FALSE(s.node(s.FindNode("liar")).node.unschedulable);
}

TEST_CASE("gpu_catalog_counts_every_unknown_product_and_warns_once_each", "[catalog]") {
  // Before: past ~50 unknown products TypeForProduct returned kNoGpuType and those
  // nodes' GPUs dropped out of capacity without a word (issue 21 item 13).
  GpuCatalog c = GpuCatalog::Default();
  std::set<GpuTypeId> types;
  int warnings = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string product = "Vendor-X" + std::to_string(i);
    std::string warning;
    const GpuTypeId t = c.TypeForProduct(product, &warning);
    REQUIRE(t != kNoGpuType);
    CHECK_THAT(warning, Catch::Contains(product));
    warnings += warning.empty() ? 0 : 1;
    types.insert(t);
    std::string again;
    CHECK(c.TypeForProduct(product, &again) == t);
    CHECK(again.empty());
  }
  CHECK(warnings == 100);
  CHECK(c.size() == kMaxGpuTypes);
  const GpuTypeId other = c.FindType(kOtherGpuType);
  REQUIRE(other != kNoGpuType);
  CHECK(c.TypeForProduct("Vendor-X99") == other);
  CHECK(types.count(other) == 1);
  // A known product still maps to its type; a configured type cannot take the last slot.
  CHECK(c.type(c.TypeForProduct("NVIDIA-H100-80GB-HBM3")).name == "H100");
  GpuCatalog full = GpuCatalog::Default();
  for (int i = full.size(); i < kMaxGpuTypes - 1; ++i) REQUIRE(full.AddType(GpuType{"T" + std::to_string(i), 1, {}, true}).ok());
  CHECK_FALSE(full.AddType(GpuType{"one-more", 1, {}, true}).ok());
  const GpuTypeId shared = full.TypeForProduct("Vendor-Y");
  CHECK(shared == full.FindType(kOtherGpuType));
  CHECK(shared == kMaxGpuTypes - 1);
}
