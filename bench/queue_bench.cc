// queue_bench: cost of queue accounting (QueueTree) and of picking the next
// workload (PendingOrder) on a realistic tree: root -> 10 orgs -> 10 teams -> 10
// leaves (1,000 leaves, 1,111 queues, guaranteed A100/H100/T4/cpu/memory on every
// leaf so shares differ) with 100,000 pending workloads spread over the leaves.
//
//   queue_bench [--pending 100000] [--fanout 10] [--ops 1000000] [--runs 3]
//
// Every figure is the median of --runs repetitions (fresh tree and order each
// time); memory (RSS deltas from /proc/self/status) is taken in the first run.
// Figures only: nothing here asserts a time.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/strings.h"
#include "queues/config.h"
#include "queues/ordering.h"
#include "queues/queue_tree.h"

namespace drover {
namespace {

using bench::Keep;
using bench::Median;
using bench::NowSec;
using bench::Rng;
using bench::RssKb;

struct Args {
  int pending = 100000;
  int fanout = 10;  // tree: fanout^3 leaves
  int ops = 1000000;
  int runs = 3;
};

QueueConfig MakeConfig(int fanout) {
  QueueConfig cfg = DefaultQueueConfig();
  cfg.root = QueueSpec{};
  cfg.root.name = "root";
  cfg.root.path = "root";
  for (int o = 0; o < fanout; ++o) {
    QueueSpec org;
    org.name = StrCat("o", o);
    org.path = StrCat("root.", org.name);
    org.weight = 1 + o % 3;
    for (int t = 0; t < fanout; ++t) {
      QueueSpec team;
      team.name = StrCat("t", t);
      team.path = StrCat(org.path, ".", team.name);
      for (int l = 0; l < fanout; ++l) {
        QueueSpec leaf;
        leaf.name = StrCat("q", l);
        leaf.path = StrCat(team.path, ".", leaf.name);
        leaf.weight = 1 + l % 2;
        leaf.guaranteed.cpu_millis = 64000;
        leaf.guaranteed.memory_bytes = int64_t{512} << 30;
        leaf.guaranteed.gpu_millis["A100"] = 8000 * (1 + l % 3);
        leaf.guaranteed.gpu_millis["H100"] = 8000;
        leaf.guaranteed.gpu_millis["T4"] = 4000;
        team.children.push_back(std::move(leaf));
      }
      org.children.push_back(std::move(team));
    }
    cfg.root.children.push_back(std::move(org));
  }
  return cfg;
}

QVec Capacity(const QueueConfig& cfg) {
  QVec cap{};
  cap[kQCpu] = int64_t{1000} * 1000 * 1000;
  cap[kQMemory] = int64_t{1} << 50;
  for (const char* t : {"A100", "H100", "T4", "A10G", "L4"}) cap[QGpu(cfg.catalog.FindType(t))] = int64_t{20000} * 1000;
  return cap;
}

struct Row {
  std::string name;
  std::vector<double> ns;  // per run: ns/op
};

class Table {
 public:
  void Add(const std::string& name, double ns) {
    for (Row& r : rows_) {
      if (r.name == name) {
        r.ns.push_back(ns);
        return;
      }
    }
    rows_.push_back(Row{name, {ns}});
  }
  void Print() const {
    std::printf("%-52s %12s %14s\n", "operation", "ns/op", "ops/s");
    for (const Row& r : rows_) {
      const double ns = Median(r.ns);
      std::printf("%-52s %12.1f %14.0f\n", r.name.c_str(), ns, ns > 0 ? 1e9 / ns : 0.0);
    }
  }

 private:
  std::vector<Row> rows_;
};

struct Memory {
  long tree_kb = 0;
  long order_kb = 0;
  long order_blocked_kb = 0;
};

void RunOnce(const Args& a, const QueueConfig& cfg, Table* t, Memory* mem, bool measure_memory) {
  const long rss0 = RssKb();
  QueueTree tree(cfg);
  tree.SetClusterCapacity(Capacity(cfg));
  const long rss1 = RssKb();
  std::vector<QueueId> leaves;
  for (QueueId q = 0; q < tree.size(); ++q) {
    if (tree.queue(q).leaf()) leaves.push_back(q);
  }
  const GpuTypeId types[] = {cfg.catalog.FindType("A100"), cfg.catalog.FindType("H100"), cfg.catalog.FindType("T4"),
                             kNoGpuType};
  Rng rng(42);
  const int n = a.ops;
  std::vector<QueueId> leaf_of(n);
  std::vector<Charge> charge_of(n);
  std::vector<int> tier_of(n);
  for (int i = 0; i < n; ++i) {
    leaf_of[i] = leaves[rng.Below(leaves.size())];
    const GpuTypeId gt = types[rng.Below(4)];
    charge_of[i] = Charge{4000, int64_t{16} << 30, gt, gt == kNoGpuType ? 0 : 1000 * static_cast<int64_t>(1 + rng.Below(8))};
    tier_of[i] = static_cast<int>(rng.Below(3));
  }

  // --- QueueTree accounting ---
  double t0 = NowSec();
  for (int i = 0; i < n; ++i) tree.Add(leaf_of[i], charge_of[i], tier_of[i]);
  double t1 = NowSec();
  t->Add("QueueTree::Add (leaf + 3 ancestors)", (t1 - t0) * 1e9 / n);
  // CheckAdmit that admits (the common case: usage well under max).
  size_t admitted = 0;
  t0 = NowSec();
  for (int i = 0; i < n; ++i) admitted += tree.CheckAdmit(leaf_of[i], charge_of[i], 1).empty();
  t1 = NowSec();
  Keep(admitted);
  t->Add("QueueTree::CheckAdmit (admitted, tier 1)", (t1 - t0) * 1e9 / n);
  t0 = NowSec();
  for (int i = 0; i < n; ++i) admitted += tree.CheckAdmit(leaf_of[i], charge_of[i], 0).empty();
  t1 = NowSec();
  Keep(admitted);
  t->Add("QueueTree::CheckAdmit (tier 0, vs guaranteed)", (t1 - t0) * 1e9 / n);
  // CheckAdmit that refuses: the reason text is formatted every time.
  const int nr = std::max(1, n / 10);
  size_t refused = 0;
  t0 = NowSec();
  for (int i = 0; i < nr; ++i) {
    Charge c = charge_of[i];
    c.cpu_millis = int64_t{2000} * 1000 * 1000;  // above the cluster
    refused += !tree.CheckAdmit(leaf_of[i], c, 1).empty();
  }
  t1 = NowSec();
  Keep(refused);
  t->Add("QueueTree::CheckAdmit (refused, reason formatted)", (t1 - t0) * 1e9 / nr);
  double share = 0;
  t0 = NowSec();
  for (int i = 0; i < n; ++i) share += tree.Share(leaf_of[i]);
  t1 = NowSec();
  Keep(share);
  t->Add("QueueTree::Share", (t1 - t0) * 1e9 / n);
  t0 = NowSec();
  for (int i = n - 1; i >= 0; --i) tree.Remove(leaf_of[i], charge_of[i], tier_of[i]);
  t1 = NowSec();
  t->Add("QueueTree::Remove", (t1 - t0) * 1e9 / n);

  // --- PendingOrder ---
  // Usage in place so shares differ between queues: 20,000 pods charged.
  for (int i = 0; i < 20000; ++i) tree.Add(leaf_of[i], charge_of[i], 1);
  const int p = a.pending;
  std::vector<QueueId> item_leaf(p);
  std::vector<PendingItem> items(p);
  for (int i = 0; i < p; ++i) {
    item_leaf[i] = leaves[rng.Below(leaves.size())];
    items[i] = PendingItem{static_cast<uint64_t>(i + 1), static_cast<int32_t>(rng.Below(4) == 0 ? 100 : 0),
                           static_cast<int64_t>(i) * 10};
  }
  const long rss2 = RssKb();
  auto order = std::make_unique<PendingOrder>(&tree);
  t0 = NowSec();
  for (int i = 0; i < p; ++i) order->Add(item_leaf[i], items[i]);
  t1 = NowSec();
  const long rss3 = RssKb();
  t->Add(StrCat("PendingOrder::Add (", p, " items)"), (t1 - t0) * 1e9 / p);
  // Next with nothing changing: the descent root -> org -> team -> leaf head.
  uint64_t sum = 0;
  t0 = NowSec();
  for (int i = 0; i < n; ++i) sum += order->Next()->second;
  t1 = NowSec();
  Keep(sum);
  t->Add("PendingOrder::Next (unchanged)", (t1 - t0) * 1e9 / n);
  // The usage of a leaf changes (a bind): tree.Add + OnUsageChanged re-keys the path.
  t0 = NowSec();
  for (int i = 0; i < n; ++i) tree.Add(leaf_of[i], charge_of[i], 1);
  t1 = NowSec();
  const double add_ns = (t1 - t0) * 1e9 / n;
  t0 = NowSec();
  for (int i = 0; i < n; ++i) {
    tree.Remove(leaf_of[i], charge_of[i], 1);
    order->OnUsageChanged(leaf_of[i]);
  }
  t1 = NowSec();
  t->Add("PendingOrder::OnUsageChanged (net of tree update)", std::max(0.0, (t1 - t0) * 1e9 / n - add_ns));
  // Unschedulable loop: Next -> Block, until every item is blocked.
  t0 = NowSec();
  int blocked = 0;
  while (auto next = order->Next()) {
    order->Block(next->second);
    ++blocked;
  }
  t1 = NowSec();
  const long rss4 = RssKb();
  t->Add("PendingOrder::Next + Block (all blocked)", (t1 - t0) * 1e9 / blocked);
  t0 = NowSec();
  for (int i = 0; i < p; ++i) order->Unblock(items[i].id);
  t1 = NowSec();
  t->Add("PendingOrder::Unblock", (t1 - t0) * 1e9 / p);
  // Bind loop: Next -> Remove -> charge the leaf -> OnUsageChanged (what a placement costs the ordering).
  const int binds = p / 2;
  t0 = NowSec();
  for (int i = 0; i < binds; ++i) {
    auto next = order->Next();
    order->Remove(next->second);
    tree.Add(next->first, charge_of[i], 1);
    order->OnUsageChanged(next->first);
  }
  t1 = NowSec();
  t->Add("bind loop: Next+Remove+tree.Add+OnUsageChanged", (t1 - t0) * 1e9 / binds);
  // Remove the rest in id order (not the pick order).
  int removed = 0;
  t0 = NowSec();
  for (int i = 0; i < p; ++i) {
    if (order->Contains(items[i].id)) {
      order->Remove(items[i].id);
      ++removed;
    }
  }
  t1 = NowSec();
  t->Add("PendingOrder::Remove (arbitrary order)", (t1 - t0) * 1e9 / std::max(1, removed));
  if (measure_memory) {
    mem->tree_kb = rss1 - rss0;
    mem->order_kb = rss3 - rss2;
    mem->order_blocked_kb = rss4 - rss2;
  }
}

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--pending") a.pending = v;
    else if (k == "--fanout") a.fanout = v;
    else if (k == "--ops") a.ops = v;
    else if (k == "--runs") a.runs = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  const QueueConfig cfg = MakeConfig(a.fanout);
  {
    QueueTree probe(cfg);
    int leaves = 0;
    for (QueueId q = 0; q < probe.size(); ++q) leaves += probe.queue(q).leaf();
    std::printf("queue_bench: %d queues (%d leaves, depth 3), %d pending items, %d ops per timing, median of %d runs\n",
                probe.size(), leaves, a.pending, a.ops, a.runs);
  }
  Table t;
  Memory mem;
  for (int r = 0; r < a.runs; ++r) RunOnce(a, cfg, &t, &mem, r == 0);
  t.Print();
  std::printf("memory: QueueTree %ld kB (%.0f B/queue); PendingOrder %ld kB for %d items = %.0f B/item "
              "(after blocking all: %ld kB)\n",
              mem.tree_kb, mem.tree_kb * 1024.0 / (a.fanout * a.fanout * a.fanout + a.fanout * a.fanout + a.fanout + 1),
              mem.order_kb, a.pending, mem.order_kb * 1024.0 / a.pending, mem.order_blocked_kb);
  return 0;
}

}  // namespace
}  // namespace drover

int main(int argc, char** argv) { return drover::Main(argc, argv); }
