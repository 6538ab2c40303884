// gpu-frag's large-pod term: how a large pod's future is valued.
//
// A pod asking k whole GPUs (k >= 2) fits only a node with k wholly free GPUs. Of
// the GPUs still free on a GPU type, the share that large pods will ask for is their
// share of the GPU demand seen so far (q_k: GPU demand of pods needing >= k whole
// GPUs, over the demand of all GPU pods that accept the type). The capacity left to
// them is C_k: GPUs in blocks of k wholly free GPUs (floor(whole free / k) x k per
// node). While C_k >= q_k x free, breaking a block costs them nothing; below it, each
// GPU of blocks a placement breaks is large-pod demand the cluster can no longer
// hold. Penalty() is that loss in milli-GPU, the unit of the fragmentation measure,
// and gpu-frag subtracts it from the fragmentation decrease. No tuned constant: the
// shares come from the observed demand, the capacities from the nodes.
//
//   LargePodHeadroom h;
//   h.NodeChanged(snap, id);                      // from the node listener
//   h.SetDemand(counter.Typical(1.0));            // at each model build
//   double loss = h.Penalty(type, 8, 7, 1000, 1); // a 1-GPU pod on a node with 8 free
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/snapshot.h"
#include "placement/policies_frag.h"

namespace drover {

class LargePodHeadroom {
 public:
  void NodeChanged(const Snapshot& snap, NodeId id);
  void Clear() { *this = LargePodHeadroom(); }
  // The demand distribution (all shapes seen, weights as popularity).
  void SetDemand(const std::vector<frag::WeightedShape>& shapes);
  // Large-pod demand (milli-GPU) lost by taking a node of `type` from `whole_before`
  // to `whole_after` wholly free GPUs with a pod of `pod_milli` GPU, `pod_whole` of
  // them whole devices (0 for a shared GPU); 0 if none. Blocks the pod fills itself
  // (pod_whole >= k) are demand served, not lost.
  double Penalty(GpuTypeId type, int whole_before, int whole_after, int64_t pod_milli, int pod_whole);

 private:
  struct PerType {
    int64_t free_milli = 0;
    std::vector<int> nodes_by_whole;  // [j] = nodes with j wholly free GPUs
    bool shares_built = false;
    std::vector<std::pair<int, double>> shares;  // (k, q_k)
    bool capacity_built = false;
    std::vector<int64_t> capacity;  // C_k in milli, parallel to shares
  };
  struct Filed {
    GpuTypeId type = kNoGpuType;
    int whole = 0;
    int64_t free_milli = 0;
  };
  PerType& For(GpuTypeId type);
  void BuildShares(GpuTypeId type, PerType& t) const;
  void BuildCapacity(PerType& t) const;
  static int NetBlocks(int k, int whole_before, int whole_after, int pod_whole);

  std::vector<PerType> types_;
  std::vector<Filed> nodes_;  // by node id
  std::vector<frag::WeightedShape> demand_;
  std::vector<int> sizes_;  // distinct k >= 2 of whole-GPU shapes, ascending
};

}  // namespace drover
