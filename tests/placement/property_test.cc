// Randomized property test: thousands of seeded random events (nodes added,
// updated, cordoned, removed; pods added, deleted, completed; bind and eviction
// failures; cycles) against an independent model of the cluster. After every
// cycle: no node or device over-committed, each queue's usage equals the sum of
// its bound pods' charges and stays within max, application counts agree with the
// pods (queue c limits them), no gang bound below its minimum,
// every bind passes the filters in the model, reserved nodes take only their pod,
// and no reservation outlives its hold.
#include <map>
#include <random>
#include <set>

#include "tests/placement/harness.h"

using namespace drover;
using namespace drover::testing;

namespace {

constexpr const char* kQueues = R"(
gpu_classes:
  - {name: a10+, min: A10}
queues:
  children:
    - name: a
      guaranteed: {gpu: {A100: 8}}
      max: {gpu: {A100: 16, H100: 8}}
    - name: b
      guaranteed: {gpu: {A100: 8, T4: 2}}
    - name: c
      max: {gpu: {T4: 4}, cpu: 40}
      limits: {max_running_apps: 3, max_pending_apps: 6}
)";

struct Product {
  const char* label;
  const char* type;
};
constexpr Product kProducts[] = {{kT4, "T4"}, {kA10G, "A10G"}, {kA100, "A100"}, {kH100, "H100"}};

bool TypeAllowed(const Pod& p, const std::string& type) {
  const std::string* want = p.annotations.Get("drover.io/gpu-type");
  if (want == nullptr) return true;
  if (*want == "a10+") return type == "A10G" || type == "A100" || type == "H100";
  return *want == type;
}

class Model {
 public:
  Model(uint64_t seed, EngineOptions o) : h(kQueues, o), rng_(seed) {}

  void Run(int events) {
    for (int i = 0; i < events; ++i) {
      const int r = static_cast<int>(rng_() % 100);
      if (r < 6) AddNode();
      else if (r < 10) UpdateNode();
      else if (r < 13) RemoveNode();
      else if (r < 45) AddPod();
      else if (r < 52) DeleteRandomPod();
      else if (r < 65) CompleteRandomPod();
      else Cycle();
    }
    Cycle();
  }

  Harness h;
  int cycles = 0, binds = 0, reservations_seen = 0, evictions = 0;

 private:
  struct PodState {
    Pod pod;
    std::string gang;
    int gang_min = 1;
  };

  template <typename M>
  typename M::iterator Pick(M& m) {
    auto it = m.begin();
    std::advance(it, rng_() % m.size());
    return it;
  }
  std::string TypeOf(const Node& n) const {
    for (const Product& p : kProducts) {
      if (n.gpu_product == p.label) return p.type;
    }
    return "";
  }

  void AddNode() {
    if (nodes_.size() >= 24) return;
    const Product& prod = kProducts[rng_() % 4];
    const int gpus = 1 << (rng_() % 4);
    Node n = rng_() % 8 == 0 ? CpuNode("n" + std::to_string(next_node_++))
                             : GpuNode("n" + std::to_string(next_node_++), prod.label, gpus);
    n.labels.Set("zone", rng_() % 2 ? "a" : "b");
    if (rng_() % 5 == 0) n.taints.push_back({"gpu", "reserved", TaintEffect::kNoSchedule});
    Upsert(n);
  }
  void UpdateNode() {
    if (nodes_.empty()) return;
    Node n = Pick(nodes_)->second;
    switch (rng_() % 4) {
      case 0: n.unschedulable = !n.unschedulable; break;  // cordon / uncordon
      case 1: n.ready = !n.ready; break;
      case 2: n.labels.Set("zone", rng_() % 2 ? "a" : "b"); break;
      default:
        if (n.taints.empty()) n.taints.push_back({"gpu", "reserved", TaintEffect::kNoSchedule});
        else n.taints.clear();
    }
    Upsert(n);
  }
  void Upsert(const Node& n) {
    nodes_[n.name] = n;
    h.AddNode(n);
  }
  void RemoveNode() {
    if (nodes_.empty()) return;
    const std::string name = Pick(nodes_)->first;
    nodes_.erase(name);
    h.DeleteNode(name);
    // The pod garbage collector deletes the pods bound to a node that is gone.
    std::vector<std::string> gone;
    for (const auto& [key, ps] : pods_) {
      if (ps.pod.node_name == name) gone.push_back(key);
    }
    for (const std::string& key : gone) Delete(key);
  }

  Pod RandomPod(const std::string& name) {
    static const char* kQueueNames[] = {"a", "b", "c"};
    static const char* kTypes[] = {"", "", "A100", "a10+", "T4", "H100"};
    const int shape = static_cast<int>(rng_() % 10);
    const int gpus = shape == 0 ? 0 : 1 << (rng_() % 4);
    Pod p = GpuPod(name, kQueueNames[rng_() % 3], gpus, gpus > 0 ? kTypes[rng_() % 6] : "",
                   static_cast<int>(rng_() % 3));
    if (shape == 1) {  // a shared GPU
      p = SharedGpuPod(name, *p.annotations.Get("drover.io/queue"), 250 * (1 + static_cast<int>(rng_() % 3)));
    }
    p.requests[Res::kCpu] = 1000 * (1 + static_cast<int64_t>(rng_() % 8));
    p.priority = static_cast<int32_t>(rng_() % 3);
    if (rng_() % 3 == 0) p.tolerations.push_back({"gpu", Toleration::Op::kEqual, "reserved", TaintEffect::kNoSchedule});
    if (rng_() % 5 == 0) p.node_selector.Set("zone", "a");
    return p;
  }
  void AddPod() {
    if (rng_() % 10 == 0) {  // a gang
      const std::string gang = "g" + std::to_string(next_pod_++);
      const int size = 2 + static_cast<int>(rng_() % 3);
      const Pod proto = RandomPod(gang);
      for (int i = 0; i < size; ++i) {
        Pod p = proto;
        p.name = p.uid = gang + "-" + std::to_string(i);
        p.annotations.Set("drover.io/gang", gang);
        p.annotations.Set("drover.io/gang-min-members", std::to_string(size));
        pods_[p.Key()] = PodState{p, gang, size};
        h.AddPod(p);
      }
      return;
    }
    Pod p = RandomPod("p" + std::to_string(next_pod_++));
    pods_[p.Key()] = PodState{p, "", 1};
    h.AddPod(p);
  }
  void Delete(std::string key) {  // by value: callers pass keys that live in pods_
    pods_.erase(key);
    h.DeletePod(key);
  }
  void DeleteRandomPod() {
    if (!pods_.empty()) Delete(Pick(pods_)->first);
  }
  void CompleteRandomPod() {
    std::vector<std::string> running;
    for (const auto& [key, ps] : pods_) {
      if (!ps.pod.node_name.empty()) running.push_back(key);
    }
    if (running.empty()) return;
    const std::string key = running[rng_() % running.size()];
    Pod p = pods_[key].pod;
    p.phase = PodPhase::kSucceeded;
    pods_.erase(key);
    h.AddPod(p);
  }

  // The model's view of a node's use by bound pods.
  struct Use {
    ResourceVec used;
    std::vector<int> device_milli;
  };
  Use UseOf(const Node& n) const {
    Use u;
    u.device_milli.assign(n.gpu_count, 0);
    for (const auto& [key, ps] : pods_) {
      if (ps.pod.node_name != n.name) continue;
      u.used += ps.pod.requests;
      for (int d : ps.pod.gpu_device_ids) u.device_milli[d] += ps.pod.gpu_milli_per_device;
    }
    return u;
  }

  // Every filter, checked independently of the engine.
  void CheckBind(const Binding& b, const std::map<std::string, std::string>& reserved) {
    INFO("bind " << b.pod_key << " -> " << b.node);
    REQUIRE(pods_.contains(b.pod_key));
    const Pod& p = pods_[b.pod_key].pod;
    REQUIRE(nodes_.contains(b.node));
    const Node& n = nodes_[b.node];
    CHECK(p.node_name.empty());
    CHECK(n.ready);
    CHECK_FALSE(n.unschedulable);
    CHECK(FirstUntoleratedTaint(n.taints, p.tolerations) == nullptr);
    CHECK(MatchesNodeSelector(p.node_selector, n.labels));
    if (p.WantsGpu()) CHECK(TypeAllowed(p, TypeOf(n)));
    const Use u = UseOf(n);
    CHECK((u.used + p.requests).FitsIn(n.allocatable));
    REQUIRE(static_cast<int>(b.gpu_devices.size()) == p.gpu_devices);
    std::set<int> distinct(b.gpu_devices.begin(), b.gpu_devices.end());
    CHECK(distinct.size() == b.gpu_devices.size());
    for (int d : b.gpu_devices) {
      REQUIRE(d >= 0);
      REQUIRE(d < n.gpu_count);
      CHECK(u.device_milli[d] + p.gpu_milli_per_device <= 1000);
    }
    if (auto r = reserved.find(b.node); r != reserved.end()) CHECK(r->second == b.pod_key);
  }

  void Cycle() {
    ++cycles;
    const int64_t now = h.now_ms;
    std::map<std::string, std::string> reserved;  // node -> pod, held through this cycle
    const std::vector<NodeReservation> before = h.engine->Reservations();
    std::map<std::string, int> gang_running;
    for (const auto& [key, ps] : pods_) {
      if (!ps.gang.empty() && !ps.pod.node_name.empty()) ++gang_running[ps.gang];
    }
    Decisions d = h.engine->RunCycle(now);
    h.now_ms += 1000;
    // Held through the whole cycle: the same reservation before and after it (one may
    // end in the cycle when its pod binds elsewhere, or its node no longer suits it).
    for (const NodeReservation& r : h.engine->Reservations()) {
      for (const NodeReservation& b : before) {
        if (b.node == r.node && b.pod_key == r.pod_key && b.since_ms == r.since_ms) reserved[r.node] = r.pod_key;
      }
    }
    // Binds: filters, then the gang rule, then carried out (or failed).
    std::map<std::string, int> gang_binds;
    for (const Binding& b : d.binds) {
      CheckBind(b, reserved);
      PodState& ps = pods_[b.pod_key];
      if (!ps.gang.empty()) ++gang_binds[ps.gang];
      const int r = static_cast<int>(rng_() % 20);
      if (r == 0) {
        h.engine->OnOutcome(BindOutcome{b.pod_key, BindOutcome::Result::kFailed, "injected"});
        continue;
      }
      if (r == 1) {
        h.engine->OnOutcome(BindOutcome{b.pod_key, BindOutcome::Result::kGone, "injected"});
        Delete(b.pod_key);
        continue;
      }
      ++binds;
      ps.pod.node_name = b.node;
      ps.pod.phase = PodPhase::kRunning;
      ps.pod.gpu_device_ids = b.gpu_devices;
      h.AddPod(ps.pod);
    }
    for (const auto& [gang, n] : gang_binds) {
      INFO("gang " << gang);
      const PodState* any = nullptr;
      for (const auto& [key, ps] : pods_) {
        if (ps.gang == gang) any = &ps;
      }
      if (any == nullptr) continue;  // every member gone meanwhile
      CHECK(n + gang_running[gang] >= any->gang_min);  // never half a gang
    }
    for (const Eviction& ev : d.evictions) {
      ++evictions;
      if (rng_() % 10 == 0) {
        h.engine->OnEvictionOutcome(EvictionOutcome{ev.pod_key, ev.preemptor_key, EvictionOutcome::Result::kBlocked, ""});
      } else if (pods_.contains(ev.pod_key)) {
        Delete(ev.pod_key);
      }
    }
    CheckInvariants(now);
  }

  void CheckInvariants(int64_t now) {
    const std::vector<std::string> problems = h.engine->CheckInvariants();
    INFO((problems.empty() ? std::string() : problems[0]));
    REQUIRE(problems.empty());
    // Queue usage is the sum of the charges of the bound pods, and within max.
    const QueueTree& t = h.engine->queues();
    std::map<QueueId, QVec> expect;
    for (const auto& [key, ps] : pods_) {
      if (ps.pod.node_name.empty()) continue;
      QVec& v = expect[t.Find("root." + *ps.pod.annotations.Get("drover.io/queue"))];
      v[kQCpu] += ps.pod.requests[Res::kCpu];
      v[kQMemory] += ps.pod.requests[Res::kMemory];
      if (ps.pod.WantsGpu()) {
        v[QGpu(h.engine->catalog().FindType(TypeOf(nodes_[ps.pod.node_name])))] += ps.pod.requests[Res::kGpu];
      }
    }
    for (const char* name : {"root.a", "root.b", "root.c"}) {
      const QueueId q = t.Find(name);
      INFO(name);
      CHECK(t.queue(q).usage == expect[q]);
      for (int d = 0; d < kQDims; ++d) CHECK(t.queue(q).usage[d] <= t.queue(q).max[d]);
    }
    // No node is held beyond the configured bound.
    for (const NodeReservation& r : h.engine->Reservations()) {
      ++reservations_seen;
      CHECK(r.expires_ms - r.since_ms == h.engine->options().reservation_max_hold_ms);
      CHECK(r.expires_ms > now);
    }
  }

  std::mt19937_64 rng_;
  std::map<std::string, Node> nodes_;
  std::map<std::string, PodState> pods_;
  int next_node_ = 0;
  int next_pod_ = 0;
};

}  // namespace

TEST_CASE("random_events_keep_every_placement_invariant", "[placement][property]") {
  EngineOptions o;
  o.reservation_after_ms = 5000;
  o.reservation_max_hold_ms = 20000;
  o.max_reservations = 4;
  for (uint64_t seed : {1, 2, 3, 4, 5, 6}) {
    DYNAMIC_SECTION("seed " << seed) {
      Model m(seed, o);
      m.Run(4000);
      INFO("cycles " << m.cycles << ", binds " << m.binds << ", evictions " << m.evictions);
      CHECK(m.cycles > 500);
      CHECK(m.binds > 300);
      CHECK(m.reservations_seen > 0);  // the run exercised reservations
    }
  }
}
