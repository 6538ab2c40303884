#include "queues/ordering.h"

namespace drover {

PendingOrder::QState& PendingOrder::State(QueueId q) {
  if (static_cast<size_t>(q) >= states_.size()) states_.resize(q + 1);
  return states_[q];
}

bool PendingOrder::HasWork(QueueId q) const {
  if (static_cast<size_t>(q) >= states_.size()) return false;
  return !states_[q].items.empty() || !states_[q].active.empty();
}

void PendingOrder::Refresh(QueueId q) {
  for (QueueId cur = q; cur != kNoQueue; cur = tree_->queue(cur).parent) {
    const QueueId parent = tree_->queue(cur).parent;
    if (parent == kNoQueue) return;
    QState& st = State(cur);
    QState& ps = State(parent);
    const bool work = HasWork(cur);
    const double share = tree_->Share(cur);
    if (st.in_parent && (!work || share != st.keyed_share)) {
      ps.active.erase({st.keyed_share, cur});
      st.in_parent = false;
    }
    if (work && !st.in_parent) {
      ps.active.insert({share, cur});
      st.keyed_share = share;
      st.in_parent = true;
    }
  }
}

void PendingOrder::Add(QueueId leaf, const PendingItem& item) {
  if (items_.contains(item.id)) Remove(item.id);
  Entry e{leaf, ItemKey{-item.priority, item.submit_ms, seq_++, item.id}, false};
  State(leaf).items.insert(e.key);
  State(leaf).queued.insert(e.key);
  items_.emplace(item.id, e);
  Refresh(leaf);
}

void PendingOrder::Remove(uint64_t id) {
  auto it = items_.find(id);
  if (it == items_.end()) return;
  const Entry e = it->second;
  items_.erase(it);
  State(e.leaf).queued.erase(e.key);
  if (e.blocked) {
    --blocked_count_;
    return;
  }
  State(e.leaf).items.erase(e.key);
  Refresh(e.leaf);
}

void PendingOrder::Block(uint64_t id) {
  auto it = items_.find(id);
  if (it == items_.end() || it->second.blocked) return;
  it->second.blocked = true;
  ++blocked_count_;
  State(it->second.leaf).items.erase(it->second.key);
  Refresh(it->second.leaf);
}

void PendingOrder::UnblockAll() {
  if (blocked_count_ == 0) return;
  std::vector<QueueId> touched;
  for (auto& [id, e] : items_) {
    if (!e.blocked) continue;
    e.blocked = false;
    State(e.leaf).items.insert(e.key);
    touched.push_back(e.leaf);
  }
  blocked_count_ = 0;
  for (QueueId q : touched) Refresh(q);
}

void PendingOrder::Unblock(uint64_t id) {
  auto it = items_.find(id);
  if (it == items_.end() || !it->second.blocked) return;
  it->second.blocked = false;
  --blocked_count_;
  State(it->second.leaf).items.insert(it->second.key);
  Refresh(it->second.leaf);
}

void PendingOrder::RekeyAll() {
  capacity_generation_ = tree_->capacity_generation();
  // Children before parents is not needed: Refresh walks each path up to the root.
  for (QueueId q = 0; static_cast<size_t>(q) < states_.size(); ++q) {
    if (states_[q].in_parent) Refresh(q);
  }
}

std::optional<std::pair<QueueId, uint64_t>> PendingOrder::Next() {
  if (capacity_generation_ != tree_->capacity_generation()) RekeyAll();
  QueueId q = tree_->root();
  while (true) {
    if (static_cast<size_t>(q) >= states_.size()) return std::nullopt;
    const QState& st = states_[q];
    // A queue can have both its own items (root as the only leaf) and children.
    if (!st.items.empty()) return std::make_pair(q, std::get<3>(*st.items.begin()));
    if (st.active.empty()) return std::nullopt;
    q = st.active.begin()->second;
  }
}

void PendingOrder::OnUsageChanged(QueueId leaf) { Refresh(leaf); }

int64_t PendingOrder::PositionInLeaf(uint64_t id) const {
  auto it = items_.find(id);
  if (it == items_.end()) return -1;
  const auto& queued = states_[it->second.leaf].queued;
  return std::distance(queued.begin(), queued.find(it->second.key));
}

void PendingOrder::ForEachInLeaf(QueueId leaf, absl::FunctionRef<void(uint64_t id)> fn) const {
  if (static_cast<size_t>(leaf) >= states_.size()) return;
  for (const ItemKey& k : states_[leaf].queued) fn(std::get<3>(k));
}

void PendingOrder::ForEachInLeafWhile(QueueId leaf, absl::FunctionRef<bool(uint64_t id)> fn) const {
  if (static_cast<size_t>(leaf) >= states_.size()) return;
  for (const ItemKey& k : states_[leaf].queued) {
    if (!fn(std::get<3>(k))) return;
  }
}

}  // namespace drover
