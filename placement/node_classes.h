// Nodes grouped into equivalence classes of their state as a scoring policy sees it
// (Borg's equivalence classes, applied to node states): GPU type, free CPU, free
// memory and the multiset of free milli-GPU per device. A policy whose score is a
// function of that state scores each class once per pod shape, and keeps the score
// until the class's state or the policy's model changes, instead of scoring every
// node for every pod.
//
//   NodeClasses classes;
//   classes.Update(snap, id);                         // from the node listener
//   classes.VisitRanked(pod, shape_id, types, model_version,
//                       [&](NodeId rep) { return Evaluate(pod, rep); },       // cached
//                       [&](NodeId rep, const Cached& c) { return Finish(c); },
//                       [&](NodeId id) { return !Accept(id); });   // best first
//
// A class holds its nodes in ascending id, so ranking visits equal scores lower id
// first, as a full scan with ties to the lower id would. Memory: one 8-byte slot
// per node plus one entry per distinct state (a few hundred at 10k generated nodes).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "core/gpu_catalog.h"
#include "core/snapshot.h"

namespace drover {

class NodeClasses {
 public:
  // Re-files `id` after any change; nodes without GPUs or not present are dropped.
  void Update(const Snapshot& snap, NodeId id);
  void Clear();
  // Calls visit(id) for the nodes of classes of the types in `types` whose CPU,
  // memory and devices can hold `pod`, best score first, equal scores lower id first,
  // until visit returns false. A class's score is finish(rep, evaluate(rep)) for a
  // node rep of the class: evaluate's result is cached per (class, shape_id) while
  // `version` stays the same, finish (cheap: cluster-wide terms) runs per call. A
  // score at or below kInfeasible skips the class. True if some visit returned false.
  // What a policy caches per (class, shape): its own encoding.
  using Cached = std::array<double, 5>;
  bool VisitRanked(const Pod& pod, int shape_id, GpuTypeMask types, uint64_t version,
                   absl::FunctionRef<Cached(NodeId)> evaluate, absl::FunctionRef<double(NodeId, const Cached&)> finish,
                   absl::FunctionRef<bool(NodeId)> visit);
  size_t classes() const { return live_classes_; }
  size_t nodes() const { return nodes_; }
  static constexpr double kInfeasible = -1e11;

 private:
  struct Key {
    GpuTypeId type = kNoGpuType;
    int64_t cpu_left = 0;
    int64_t memory_left = 0;
    std::vector<int32_t> free_desc;  // free milli per device, descending
    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.type, k.cpu_left, k.memory_left, k.free_desc);
    }
  };
  struct Class {
    Key key;
    std::vector<NodeId> nodes;  // ascending
    int pos_in_type = -1;       // index in by_type_[type]
    uint64_t version = 0;       // of `scores`
    std::vector<std::pair<int, Cached>> scores;  // shape id -> evaluate()
  };
  struct Candidate {
    double score;
    int cls;
  };
  void Remove(NodeId id);
  bool Holds(const Class& c, const Pod& pod) const;
  const Cached& CachedOf(Class& c, int shape_id, uint64_t version, absl::FunctionRef<Cached(NodeId)> evaluate);
  bool VisitGroup(const std::vector<int>& group, absl::FunctionRef<bool(NodeId)> visit);

  std::vector<Class> classes_;          // by class id; free ids in free_
  std::vector<int> free_;
  absl::flat_hash_map<Key, int> by_key_;
  std::vector<std::vector<int>> by_type_;  // [type] -> class ids
  std::vector<int> class_of_;              // by node id, -1 = not filed
  size_t live_classes_ = 0;
  size_t nodes_ = 0;
  Key scratch_key_;
  std::vector<Candidate> candidates_;
  std::vector<int> group_;
  std::vector<NodeId> merged_;
};

}  // namespace drover
