// Who goes next: the pending workloads of every leaf queue, ordered for the
// placement loop by hierarchical weighted fair share.
//
//   PendingOrder order(&tree);
//   order.Add(leaf, {id, priority, submit_ms});
//   while (auto next = order.Next()) { ... order.Block(next->id) or order.Remove(...) }
//   order.OnUsageChanged(leaf);     // after tree.Add/Remove, re-keys the path
//
// From the root down, the child with the lowest QueueTree::Share() (ties: lower
// id, the queue defined first) among those with offerable work is taken; within a leaf, higher priority first, then
// earlier submit time, then insertion order. Blocked items (tried, did not fit)
// are not offered until UnblockAll(). Every operation is O(depth * log n): no
// sort per pick, whatever the number of queues and pending workloads.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "queues/queue_tree.h"

namespace drover {

struct PendingItem {
  uint64_t id = 0;         // the caller's workload id
  int32_t priority = 0;
  int64_t submit_ms = 0;
};

class PendingOrder {
 public:
  explicit PendingOrder(const QueueTree* tree) : tree_(tree) {}

  void Add(QueueId leaf, const PendingItem& item);
  void Remove(uint64_t id);
  // Takes the item out of offering until UnblockAll().
  void Block(uint64_t id);
  void UnblockAll();
  // Offers one blocked item again.
  void Unblock(uint64_t id);
  // The next offerable item and its leaf, or nullopt. Re-keys every queue first
  // if the tree's cluster capacity changed since the last call (shares depend on it).
  std::optional<std::pair<QueueId, uint64_t>> Next();
  // Call after the usage (share) of `leaf` changed.
  void OnUsageChanged(QueueId leaf);

  size_t size() const { return items_.size(); }
  size_t blocked() const { return blocked_count_; }
  bool Contains(uint64_t id) const { return items_.contains(id); }
  // Position of the item in its leaf's order (0 = head), counting every item of
  // the leaf, offerable or blocked: where it stands in line. -1 if absent. O(position).
  int64_t PositionInLeaf(uint64_t id) const;
  // Calls fn(id) for every item of `leaf`, offerable or blocked, in the leaf's order. O(items of the leaf).
  void ForEachInLeaf(QueueId leaf, absl::FunctionRef<void(uint64_t id)> fn) const;
  // The same, stopping as soon as fn returns false. O(items visited).
  void ForEachInLeafWhile(QueueId leaf, absl::FunctionRef<bool(uint64_t id)> fn) const;

 private:
  using ItemKey = std::tuple<int32_t, int64_t, uint64_t, uint64_t>;  // -priority, submit, seq, id
  using ChildKey = std::pair<double, QueueId>;
  struct Entry {
    QueueId leaf;
    ItemKey key;
    bool blocked = false;
  };
  struct QState {
    std::set<ItemKey> items;          // leaves: offerable items
    std::set<ItemKey> queued;         // leaves: every item, offerable or blocked (positions)
    std::set<ChildKey> active;        // parents: children with offerable work, by share
    double keyed_share = 0;           // share under which this queue sits in its parent's set
    bool in_parent = false;
  };

  QState& State(QueueId q);
  bool HasWork(QueueId q) const;
  void Refresh(QueueId q);  // fix q's membership/key in its parent, then up
  void RekeyAll();

  const QueueTree* tree_;
  std::vector<QState> states_;
  absl::flat_hash_map<uint64_t, Entry> items_;
  uint64_t seq_ = 0;
  size_t blocked_count_ = 0;
  uint64_t capacity_generation_ = 0;  // the tree's, when the keys were last all computed
};

}  // namespace drover
