#include "server/status.h"

#include <catch2/catch.hpp>

#include "server/status_json.h"
#include "tests/common/fixtures.h"

namespace drover {
namespace {

using testing::GpuNode;
using testing::GpuPod;

constexpr const char* kQueues = R"(
queues:
  children:
    - name: team
      guaranteed: {gpu: {A100: 4}}
      max: {gpu: {A100: 12}}
)";

std::unique_ptr<Engine> EngineWith(const char* yaml) {
  absl::StatusOr<QueueConfig> config = ParseQueueConfig(yaml, "test");
  REQUIRE(config.ok());
  absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(*config, EngineOptions{});
  REQUIRE(e.ok());
  return *std::move(e);
}

void AddNode(Engine& e, Node n) { e.Apply(ClusterEvent{ClusterEvent::Kind::kNodeUpsert, std::move(n), {}}); }
void AddPod(Engine& e, Pod p) { e.Apply(ClusterEvent{ClusterEvent::Kind::kPodUpsert, {}, std::move(p)}); }

const QueueDimStatus* Dim(const QueueStatus& q, const std::string& resource) {
  for (const QueueDimStatus& d : q.dims) {
    if (d.resource == resource) return &d;
  }
  return nullptr;
}

TEST_CASE("status_reports_queue_usage_borrowing_and_gpu_inventory_as_the_engine_sees_them", "[server][status]") {
  std::unique_ptr<Engine> e = EngineWith(kQueues);
  AddNode(*e, GpuNode("a-1", testing::kA100, 8));
  AddNode(*e, GpuNode("a-2", testing::kA100, 8));
  AddNode(*e, GpuNode("a-3", testing::kA100, 8));
  AddNode(*e, GpuNode("h-1", testing::kH100, 8));
  // 6 A100 of team running on a-1 (borrowing 2 above its 4 guaranteed); a-2 and
  // a-3 idle; one pending pod of 2.
  Pod running = GpuPod("run", "root.team", 6);
  running.node_name = "a-1";
  running.phase = PodPhase::kRunning;
  AddPod(*e, running);
  AddPod(*e, GpuPod("wait", "root.team", 2));
  StatusInputs in;
  in.synced = true;
  in.config.revision = 3;
  std::shared_ptr<const PendingSection> pending = BuildPendingSection(*e, 1234);
  std::shared_ptr<ClusterStatus> s = BuildStatus(*e, 1234, in, pending);
  REQUIRE(s->queues.size() == 2);
  CHECK(s->queues[0].path == "root");
  const QueueStatus* team = s->FindQueue("root.team");
  REQUIRE(team != nullptr);
  CHECK(team->parent == "root");
  CHECK(team->leaf);
  CHECK(team->running_pods == 1);
  const QueueDimStatus* a100 = Dim(*team, "A100");
  REQUIRE(a100 != nullptr);
  CHECK(a100->guaranteed == 4000);
  CHECK(a100->max == 12000);
  CHECK(a100->usage == 6000);
  CHECK(a100->borrowed == 2000);
  CHECK(s->config.revision == 3);
  CHECK(s->now_ms == 1234);
  CHECK(s->live_nodes == 4);
  // Inventory: A100 24 devices, 6 used on a-1 (2 stranded there), 2 nodes whole.
  REQUIRE(s->gpus.size() == 2);
  const GpuInventory& inv = s->gpus[0].type == "A100" ? s->gpus[0] : s->gpus[1];
  CHECK(inv.type == "A100");
  CHECK(inv.nodes == 3);
  CHECK(inv.total == 24);
  CHECK(inv.allocated_milli == 6000);
  CHECK(inv.free == 18);
  CHECK(inv.whole_nodes_free == 2);
  CHECK(inv.stranded == 2);
  // The waiting pod: first in root.team, its 2 GPUs (no type named) as demand of
  // the leaf and the root.
  REQUIRE(s->pending->workloads.size() == 1);
  const PendingWorkload& w = s->pending->workloads[0];
  CHECK(w.pod_keys == std::vector<std::string>{"ns/wait"});
  CHECK(w.queue == "root.team");
  CHECK(w.position == 1);
  for (const char* q : {"root", "root.team"}) {
    const QueueDimStatus* gpu = Dim(*s->FindQueue(q), "gpu");
    REQUIRE(gpu != nullptr);
    CHECK(gpu->pending_demand == 2000);
  }
  CHECK(Dim(*team, "cpu")->pending_demand == 1000);
  REQUIRE(s->nodes.size() == 4);
  CHECK(s->nodes[0].name == "a-1");
  CHECK(s->nodes[0].free_gpus == 2);
  const std::string json = FormatStatusJson(*s, {true, 100, ""});
  CHECK(json.find("\"path\":\"root.team\"") != std::string::npos);
  CHECK(json.find("\"wholeNodesFree\":2") != std::string::npos);
  CHECK(json.find("\"pods\":[\"ns/wait\"],\"queue\":\"root.team\",\"tier\":1,\"code\":\"Queued\"") != std::string::npos);
  CHECK(json.find("\"pendingTotal\":1") != std::string::npos);
  CHECK(FormatStatusJson(*s, {false, 0, ""}).find("\"pending\":[]") != std::string::npos);
  CHECK(FormatStatusJson(*s, {false, 10, "root.other"}).find("\"pendingTotal\":0") != std::string::npos);
  CHECK(json.find("\"name\":\"h-1\"") != std::string::npos);
  CHECK(FormatStatusJson(*s, {}).find("\"nodes\":[") == std::string::npos);
}

TEST_CASE("status_board_hands_out_immutable_generations", "[server][status]") {
  StatusBoard board;
  std::shared_ptr<const ClusterStatus> empty = board.Get();
  REQUIRE(empty != nullptr);
  CHECK(empty->generation == 0);
  auto first = std::make_shared<ClusterStatus>();
  first->pending_pods = 5;
  board.Publish(first);
  std::shared_ptr<const ClusterStatus> held = board.Get();
  board.Publish(std::make_shared<ClusterStatus>());
  CHECK(held->generation == 1);
  CHECK(held->pending_pods == 5);  // a reader's copy outlives the next publish
  CHECK(board.Get()->generation == 2);
}

TEST_CASE("pending_lookup_finds_a_pods_workload_and_orders_each_queue_by_position", "[server][status]") {
  PendingSection s;
  auto add = [&](std::vector<std::string> pods, std::string queue, int64_t position) {
    PendingWorkload w;
    w.pod_keys = std::move(pods);
    w.queue = std::move(queue);
    w.position = position;
    s.workloads.push_back(std::move(w));
  };
  add({"ns/c"}, "root.a", 3);
  add({"ns/r"}, "root.a", 0);  // rejected: in the queue's count, never ahead of anyone
  add({"ns/g-0", "ns/g-1"}, "root.a", 1);
  add({"ns/b"}, "root.b", 1);
  add({"ns/x"}, "", 0);
  add({"ns/g-1"}, "root.b", 2);  // a key listed twice: the first workload wins
  add({"ns/d"}, "root.a", 2);
  const PendingSection::Lookup& l = s.lookup();
  CHECK(&l == &s.lookup());  // built once
  CHECK(l.by_pod.at("ns/g-1") == 2);
  CHECK(l.by_pod.at("ns/d") == 6);
  CHECK(l.by_pod.at("ns/x") == 4);
  CHECK_FALSE(l.by_pod.contains("ns/none"));
  CHECK(l.by_queue.at("root.a") == std::vector<size_t>{2, 6, 0, 1});
  CHECK(l.by_queue.at("root.b") == std::vector<size_t>{3, 5});
  CHECK_FALSE(l.by_queue.contains(""));
}

}  // namespace
}  // namespace drover
