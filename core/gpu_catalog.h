// The GPU type catalog: canonical GPU type names with a rank, the node label values
// that mean each type, and GPU classes ("a10+": A10 or better).
//
//   GpuCatalog catalog = GpuCatalog::Default();
//   GpuTypeId t = catalog.TypeForProduct("NVIDIA-A100-SXM4-80GB");  // -> "A100"
//   ASSIGN_OR_RETURN(GpuTypeMask m, catalog.ResolveRequest("a10+"));
//
// Quotas, classes and placement are keyed by the dense GpuTypeId. A node whose
// product label matches no type gets a type of its own (named after the label
// value, rank 0, `known == false`) and a warning: it is schedulable for pods that
// accept any GPU, never silently merged into a known type. Once kMaxGpuTypes - 1
// types exist, further unknown products share the type kOtherGpuType.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace drover {

using GpuTypeId = int;
using GpuTypeMask = uint64_t;  // bit i = GpuTypeId i
inline constexpr GpuTypeId kNoGpuType = -1;
inline constexpr int kMaxGpuTypes = 64;
// The type of every GPU product that matches no type once the catalog has no
// room for a type of its own: it takes the catalog's last slot, which AddType
// keeps free for it, so a node of an unknown product always counts.
inline constexpr std::string_view kOtherGpuType = "other-gpus";
inline constexpr GpuTypeMask kAnyGpuType = ~GpuTypeMask{0};

struct GpuType {
  std::string name;                   // canonical: "A100"
  int rank = 0;                       // higher = more capable
  std::vector<std::string> products;  // label values that mean this type
  bool known = true;                  // false for types made up for unknown products
};

struct GpuClass {
  std::string name;    // "a10+"
  GpuTypeMask members = 0;
};

class GpuCatalog {
 public:
  // T4, P100, V100, A10, A10G, L4, L40S, A100, A800, H100, H800, H200, B200 with
  // the product strings NVIDIA's GPU feature discovery and cloud providers use.
  static GpuCatalog Default();

  // Adds a type. Errors: empty or duplicate name, a product already claimed by
  // another type, more than kMaxGpuTypes - 1 types (the last slot is for
  // kOtherGpuType only).
  [[nodiscard]] absl::Status AddType(GpuType type);
  // Adds a class of explicit members, or of every known type ranked at least
  // `min_type`'s rank when `members` is empty. Errors name the class and the type.
  [[nodiscard]] absl::Status AddClass(std::string_view name, const std::vector<std::string>& members,
                        std::string_view min_type);

  // Node label keys that carry the product name, checked in order.
  const std::vector<std::string>& product_labels() const { return product_labels_; }
  void set_product_labels(std::vector<std::string> keys) { product_labels_ = std::move(keys); }

  // The type for a product label value: an exact product match, else the longest
  // type name that the value (without "NVIDIA-"/"Tesla-" prefixes, case-insensitive)
  // starts with followed by '-' or the end. kNoGpuType if none.
  GpuTypeId MatchProduct(std::string_view product) const;
  // Like MatchProduct, but an unmatched product becomes a type of its own, or
  // kOtherGpuType when the catalog is full: never kNoGpuType. `*warning` is set
  // the first time a product is seen unmatched, and only then.
  GpuTypeId TypeForProduct(std::string_view product, std::string* warning = nullptr);

  // A pod's GPU type request, either a type name or a class name; errors name it.
  [[nodiscard]] absl::StatusOr<GpuTypeMask> ResolveRequest(std::string_view type_or_class) const;

  GpuTypeId FindType(std::string_view name) const;
  const GpuClass* FindClass(std::string_view name) const;
  const GpuType& type(GpuTypeId id) const { return types_[id]; }
  int size() const { return static_cast<int>(types_.size()); }
  // Type ids of `mask`, lowest rank first (ties by name): the order classes prefer.
  std::vector<GpuTypeId> ByRank(GpuTypeMask mask) const;
  // Every type id, lowest rank first; kept sorted as types are added (no allocation
  // per call: the placement loop iterates it with a mask test).
  const std::vector<GpuTypeId>& AllByRank() const { return by_rank_; }
  std::string MaskToString(GpuTypeMask mask) const;

 private:
  std::vector<GpuType> types_;
  std::vector<GpuTypeId> by_rank_;  // all ids, lowest rank first, ties by name
  std::vector<GpuClass> classes_;
  absl::flat_hash_map<std::string, GpuTypeId> by_name_;
  absl::flat_hash_map<std::string, GpuTypeId> by_product_;
  std::vector<std::string> product_labels_{"nvidia.com/gpu.product", "alibabacloud.com/gpu-card-model"};
};

}  // namespace drover
