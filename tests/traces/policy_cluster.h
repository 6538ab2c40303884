// A small cluster built by hand for the policy tests: nodes of given GPU types, usage
// placed on chosen devices through bound pods; node changes reach an optional
// policy and headroom tracker, as the engine's and the fill's node listeners do.
//
//   PolicyCluster c(policy.get());
//   NodeId n = c.AddNode("a", "Tesla-T4", 4);
//   c.Use("a", 0, 500);                      // half of device 0
//   Pod p = PolicyCluster::MakePod("p", 1000, 1, 1000, "A100");
#pragma once

#include <string>

#include "absl/strings/str_cat.h"
#include "core/snapshot.h"
#include "placement/headroom.h"
#include "placement/policy.h"

namespace drover {

class PolicyCluster {
 public:
  explicit PolicyCluster(ScoringPolicy* policy = nullptr)
      : catalog_(GpuCatalog::Default()), snap_(&catalog_), policy_(policy) {
    snap_.set_node_listener([this](NodeId id) {
      if (policy_ != nullptr) policy_->NodeChanged(snap_, id);
      if (headroom_ != nullptr) headroom_->NodeChanged(snap_, id);
    });
  }
  PolicyCluster(const PolicyCluster&) = delete;
  PolicyCluster& operator=(const PolicyCluster&) = delete;
  void WatchHeadroom(LargePodHeadroom* h) { headroom_ = h; }

  NodeId AddNode(const std::string& name, const std::string& product, int gpus, int64_t cpu = 64000) {
    Node n;
    n.name = name;
    n.allocatable[Res::kCpu] = cpu;
    n.allocatable[Res::kMemory] = int64_t{256} << 30;
    n.allocatable[Res::kPods] = 110;
    n.allocatable[Res::kGpu] = gpus * 1000;
    n.gpu_count = gpus;
    n.gpu_product = product;
    snap_.UpsertNode(n);
    return snap_.FindNode(name);
  }
  // Binds a pod using `milli` on device `device` of `node` (whole GPU when 1000).
  void Use(const std::string& node, int device, int milli, int64_t cpu = 1000) {
    Pod p = MakePod(absl::StrCat("used-", used_++), cpu, 1, milli);
    p.node_name = node;
    p.gpu_device_ids = {device};
    snap_.UpsertPod(p);
  }
  static Pod MakePod(const std::string& name, int64_t cpu, int devices, int milli, const std::string& type = "") {
    Pod p;
    p.namespace_ = std::string("t");
    p.name = name;
    p.requests[Res::kCpu] = cpu;
    p.requests[Res::kMemory] = int64_t{1} << 30;
    p.requests[Res::kPods] = 1;
    p.requests[Res::kGpu] = int64_t{devices} * milli;
    p.gpu_devices = devices;
    p.gpu_milli_per_device = devices > 0 ? milli : 0;
    if (!type.empty()) p.annotations.Set(std::string(annotations::kGpuType), type);
    return p;
  }
  Snapshot& snap() { return snap_; }
  GpuCatalog& catalog() { return catalog_; }

 private:
  GpuCatalog catalog_;
  Snapshot snap_;
  ScoringPolicy* policy_;
  LargePodHeadroom* headroom_ = nullptr;
  int used_ = 0;
};

}  // namespace drover
