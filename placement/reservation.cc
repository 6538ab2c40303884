// The engine's side of reservations (placement/reservations.h has the rules and
// the node choice): when a pod may reserve, what happens to its workload when a
// reservation is made or ends, and the checks each cycle.
//  - a single pod that has waited reservation_after_ms since its first failed
//    attempt (or since its last reservation expired), fits no node now and is
//    large enough reserves at its next attempt, unless it holds a nomination or
//    a reservation already, or is held by max_running_apps;
//  - the reservation ends when the pod binds (anywhere), leaves, or after
//    reservation_max_hold_ms; after an expiry the pod waits anew before it may
//    reserve again, so a node is never held idle beyond the configured bound.
// Gangs do not reserve.
#include <algorithm>

#include "core/strings.h"
#include "placement/engine.h"

namespace drover {

bool Engine::MayReserve(const Workload& w) const {
  // A pod that requires a topology level does not reserve (the node chosen need not carry its labels).
  if (!reservations_.enabled() || w.reserved_node != kNoNode || !w.gang.empty() || w.members.size() != 1 ||
      w.topology_required >= 0 ||
      !w.rejection.empty() || w.leaf == kNoQueue || w.waiting_since_ms < 0 ||
      now_ms_ - w.waiting_since_ms < options_.reservation_after_ms || !reservations_.has_room()) {
    return false;
  }
  return reservations_.LargeEnough(snapshot_.pod(snapshot_.FindPod(w.members[0])).pod);
}

void Engine::WakeToReserve(Workload& w, const Pod& head) {
  if (w.reserved_node != kNoNode || !reservations_.enabled() || !w.gang.empty() ||
      now_ms_ - w.waiting_since_ms >= options_.reservation_after_ms || !reservations_.LargeEnough(head)) {
    return;
  }
  WakeAt(w, w.waiting_since_ms + options_.reservation_after_ms);
}

bool Engine::TryReserve(Workload& w) {
  const std::string& key = w.members[0];
  for (const auto& [node, nom] : nominations_) {
    if (nom.pod_key == key) return false;  // freed space is already held for it
  }
  const Pod& pod = snapshot_.pod(snapshot_.FindPod(key)).pod;
  const ReservationView view{&snapshot_, tree_.get(), &index_, &catalog_, &tracked_,
                             [&](NodeId id) { return nominations_.contains(id); }};
  const std::optional<NodeId> node = reservations_.ChooseNode(view, pod, w.leaf, now_ms_);
  if (!node) return false;
  reservations_.Hold(*node, w.id, key, now_ms_);
  w.reserved_node = *node;
  ++stats_.reservations;
  return true;
}

void Engine::ReleaseReservation(NodeId node) {
  const std::optional<uint64_t> workload = reservations_.Release(node);
  if (!workload) return;
  if (auto w = workloads_.find(*workload); w != workloads_.end()) {
    w->second.reserved_node = kNoNode;
    // Until its next attempt explains it afresh (a different text, so the pods are
    // told), listings show why it no longer waits for a drain.
    w->second.code = PendingCode::kQueued;
    w->second.reason = "its node reservation ended: waiting to be tried again";
  }
  capacity_freed_ = true;  // others may land there again
}

void Engine::CheckReservations() {
  const auto alive = [&](uint64_t id) { return workloads_.contains(id); };
  for (const drover::Reservations::Ended& e : reservations_.Due(now_ms_, snapshot_, alive)) {
    if (e.expired) {
      workloads_[e.workload].waiting_since_ms = now_ms_;  // a new wait before it may reserve again
      ++stats_.reservations_expired;
    }
    ReleaseReservation(e.node);
  }
}

std::string Engine::ReservationNote(const Workload& w) const {
  return w.reserved_node == kNoNode ? "" : reservations_.Note(w.reserved_node, snapshot_);
}

void Engine::DropNodeHolds(NodeId node) {
  if (node == kNoNode) return;
  if (auto n = nominations_.find(node); n != nominations_.end()) EndNomination(n);
  ReleaseReservation(node);
}

std::vector<NodeReservation> Engine::Reservations() const {
  std::vector<NodeReservation> out;
  reservations_.ForEach([&](NodeId node, const drover::Reservations::Held& r) {
    auto w = workloads_.find(r.workload);
    const std::string queue = w == workloads_.end() ? "" : tree_->queue(w->second.leaf).path;
    out.push_back(NodeReservation{snapshot_.node(node).node.name, r.pod_key, queue, r.since_ms, r.expires_ms});
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.node < b.node; });
  return out;
}

}  // namespace drover
