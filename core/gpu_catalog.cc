#include "core/gpu_catalog.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "core/strings.h"

namespace drover {
namespace {

std::string Normalize(std::string_view product) {
  std::string p = absl::AsciiStrToUpper(ToAbsl(product));
  for (std::string_view prefix : {"NVIDIA-", "NVIDIA ", "TESLA-", "TESLA "}) {
    if (absl::StartsWith(p, ToAbsl(prefix))) p = p.substr(prefix.size());
  }
  return p;
}

}  // namespace

GpuCatalog GpuCatalog::Default() {
  GpuCatalog c;
  auto add = [&c](const char* name, int rank, std::vector<std::string> products) {
    (void)c.AddType(GpuType{name, rank, std::move(products), true});
  };
  add("T4", 10, {"Tesla-T4", "NVIDIA-T4"});
  add("P100", 5, {"Tesla-P100-PCIE-16GB", "Tesla-P100-SXM2-16GB"});
  add("V100", 20, {"Tesla-V100-SXM2-16GB", "Tesla-V100-SXM2-32GB", "Tesla-V100-PCIE-16GB"});
  add("A10", 30, {"NVIDIA-A10"});
  add("A10G", 31, {"NVIDIA-A10G"});
  add("L4", 32, {"NVIDIA-L4"});
  add("L40S", 50, {"NVIDIA-L40S"});
  add("A100", 60, {"NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-PCIE-40GB", "NVIDIA-A100-80GB-PCIe"});
  add("A800", 61, {"NVIDIA-A800-SXM4-80GB"});
  add("H100", 80, {"NVIDIA-H100-80GB-HBM3", "NVIDIA-H100-PCIe", "NVIDIA-H100-NVL"});
  add("H800", 81, {"NVIDIA-H800"});
  add("H200", 90, {"NVIDIA-H200", "NVIDIA-H200-141GB-HBM3e"});
  add("B200", 100, {"NVIDIA-B200"});
  return c;
}

absl::Status GpuCatalog::AddType(GpuType type) {
  if (type.name.empty()) return absl::InvalidArgumentError("gpu type: name is empty");
  if (by_name_.contains(type.name)) {
    return absl::AlreadyExistsError(StrCat("gpu type \"", type.name, "\": defined twice"));
  }
  const size_t room = static_cast<size_t>(type.name == kOtherGpuType ? kMaxGpuTypes : kMaxGpuTypes - 1);
  if (types_.size() >= room) {
    return absl::ResourceExhaustedError(
        StrCat("gpu type \"", type.name, "\": more than ", kMaxGpuTypes - 1, " types (one more is kept for \"",
               kOtherGpuType, "\", the type of GPU products no type matches)"));
  }
  for (const std::string& p : type.products) {
    auto it = by_product_.find(p);
    if (it != by_product_.end()) {
      return absl::AlreadyExistsError(StrCat("gpu type \"", type.name, "\": product \"", p,
                                                   "\" already belongs to type \"", types_[it->second].name, "\""));
    }
  }
  const GpuTypeId id = static_cast<GpuTypeId>(types_.size());
  for (const std::string& p : type.products) by_product_[p] = id;
  by_name_[type.name] = id;
  types_.push_back(std::move(type));
  auto before = [this](GpuTypeId a, GpuTypeId b) {
    if (types_[a].rank != types_[b].rank) return types_[a].rank < types_[b].rank;
    return types_[a].name < types_[b].name;
  };
  by_rank_.insert(std::upper_bound(by_rank_.begin(), by_rank_.end(), id, before), id);
  return absl::OkStatus();
}

absl::Status GpuCatalog::AddClass(std::string_view name, const std::vector<std::string>& members,
                                  std::string_view min_type) {
  if (name.empty()) return absl::InvalidArgumentError("gpu class: name is empty");
  if (FindClass(name) != nullptr || FindType(name) != kNoGpuType) {
    return absl::AlreadyExistsError(StrCat("gpu class \"", name, "\": name already used by a type or class"));
  }
  GpuClass cls{std::string(name), 0};
  if (!members.empty() && !min_type.empty()) {
    return absl::InvalidArgumentError(StrCat("gpu class \"", name, "\": give either types or min, not both"));
  }
  for (const std::string& m : members) {
    const GpuTypeId id = FindType(m);
    if (id == kNoGpuType) {
      return absl::NotFoundError(StrCat("gpu class \"", name, "\": unknown gpu type \"", m, "\""));
    }
    cls.members |= GpuTypeMask{1} << id;
  }
  if (!min_type.empty()) {
    const GpuTypeId min_id = FindType(min_type);
    if (min_id == kNoGpuType) {
      return absl::NotFoundError(StrCat("gpu class \"", name, "\": min: unknown gpu type \"", min_type, "\""));
    }
    for (GpuTypeId id = 0; id < size(); ++id) {
      if (types_[id].known && types_[id].rank >= types_[min_id].rank) cls.members |= GpuTypeMask{1} << id;
    }
  }
  if (cls.members == 0) return absl::InvalidArgumentError(StrCat("gpu class \"", name, "\": has no types"));
  classes_.push_back(std::move(cls));
  return absl::OkStatus();
}

GpuTypeId GpuCatalog::MatchProduct(std::string_view product) const {
  if (auto it = by_product_.find(ToAbsl(product)); it != by_product_.end()) return it->second;
  const std::string norm = Normalize(product);
  GpuTypeId best = kNoGpuType;
  size_t best_len = 0;
  for (GpuTypeId id = 0; id < size(); ++id) {
    if (!types_[id].known) continue;
    const std::string name = absl::AsciiStrToUpper(types_[id].name);
    if (!absl::StartsWith(norm, name)) continue;
    if (norm.size() != name.size() && norm[name.size()] != '-' && norm[name.size()] != ' ') continue;
    if (name.size() > best_len) {
      best = id;
      best_len = name.size();
    }
  }
  return best;
}

GpuTypeId GpuCatalog::TypeForProduct(std::string_view product, std::string* warning) {
  if (GpuTypeId id = MatchProduct(product); id != kNoGpuType) return id;
  const std::string name = product.empty() ? "unknown" : std::string(product);
  if (GpuTypeId id = FindType(name); id != kNoGpuType) return id;
  if (types_.size() < static_cast<size_t>(kMaxGpuTypes - 1) && AddType(GpuType{name, 0, {std::string(product)}, false}).ok()) {
    if (warning != nullptr) {
      *warning = StrCat("gpu product \"", CutForMessage(product),
                        "\" matches no gpu type in the catalog; treating it as type \"", CutForMessage(name),
                        "\" of its own (rank 0, in no class). Add it to gpu_types to give it a rank.");
    }
    return FindType(name);
  }
  // Full: the product joins the shared type, and is remembered so it warns once.
  GpuTypeId other = FindType(kOtherGpuType);
  if (other == kNoGpuType) {
    (void)AddType(GpuType{std::string(kOtherGpuType), 0, {}, false});  // the slot kept for it
    other = FindType(kOtherGpuType);
  }
  by_product_[std::string(product)] = other;
  if (warning != nullptr) {
    *warning = StrCat("gpu product \"", CutForMessage(product), "\" matches no gpu type, and the catalog has no room for ",
                      "another (", kMaxGpuTypes, " types); its GPUs are counted as type \"", kOtherGpuType,
                      "\" (rank 0, in no class). Add it to gpu_types to give it a type.");
  }
  return other;
}

absl::StatusOr<GpuTypeMask> GpuCatalog::ResolveRequest(std::string_view type_or_class) const {
  if (const GpuClass* c = FindClass(type_or_class)) return c->members;
  if (GpuTypeId id = FindType(type_or_class); id != kNoGpuType) return GpuTypeMask{1} << id;
  return absl::NotFoundError(StrCat("gpu type or class \"", type_or_class, "\" is not in the catalog"));
}

GpuTypeId GpuCatalog::FindType(std::string_view name) const {
  auto it = by_name_.find(ToAbsl(name));
  return it == by_name_.end() ? kNoGpuType : it->second;
}

const GpuClass* GpuCatalog::FindClass(std::string_view name) const {
  for (const GpuClass& c : classes_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<GpuTypeId> GpuCatalog::ByRank(GpuTypeMask mask) const {
  std::vector<GpuTypeId> ids;
  for (GpuTypeId id : by_rank_) {
    if (mask & (GpuTypeMask{1} << id)) ids.push_back(id);
  }
  return ids;
}

std::string GpuCatalog::MaskToString(GpuTypeMask mask) const {
  if (mask == kAnyGpuType) return "any";
  std::vector<std::string> names;
  for (GpuTypeId id : ByRank(mask)) names.push_back(types_[id].name);
  return absl::StrJoin(names, "|");
}

}  // namespace drover
