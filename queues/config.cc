// ParseQueueConfig: loads the document, reads the catalog sections, the policies
// and placement, and builds the QueueConfig only when the whole document is valid.
// The queue tree and the YAML field readers are in config_validate.cc.
#include "queues/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "core/strings.h"
#include "queues/config_internal.h"
#include "yaml-cpp/depthguard.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/parser.h"

namespace drover {
namespace {

using config_internal::Errors;
using config_internal::Field;
using config_internal::Fields;
using config_internal::Find;
using config_internal::Index;
using config_internal::IsLabelKey;
using config_internal::Items;
using config_internal::Join;
using config_internal::MapEntries;
using config_internal::MapFields;
using config_internal::Quote;
using config_internal::ReadInt;
using config_internal::ReadQuantity;
using config_internal::ReadString;
using config_internal::Suggest;
using config_internal::TypeNames;
using config_internal::Unit;

// A name and where it was written.
struct Named {
  std::string name;
  YAML::Mark mark;
};

bool IsGpuName(std::string_view name) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (name.empty() || name.size() > 63 || !alnum(name.front())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.' && c != '+') return false;
  }
  return true;
}

// The first `limit` items; an error at the first one past it.
std::vector<YAML::Node> WithinLimit(std::vector<YAML::Node> items, size_t limit, std::string_view path,
                                    std::string_view what, Errors& errors) {
  if (items.size() <= limit) return items;
  errors.Add(items[limit], Index(path, limit),
             StrCat(items.size(), " ", what, " listed; the limit is ", limit, " (see queues/README.md, Limits)"));
  items.resize(limit);
  return items;
}

// ---- gpu_types ----

struct TypeEntry {
  GpuType type;
  std::string path;  // "gpu_types[2]"
  YAML::Mark mark;
  bool has_rank = false;
  bool has_products = false;
  std::vector<YAML::Mark> product_marks;
};

void ReadProducts(const YAML::Node& node, TypeEntry& e, Errors& errors) {
  e.has_products = true;
  const std::string path = Join(e.path, "products");
  const std::vector<YAML::Node> items = Items(node, path, errors);
  for (size_t i = 0; i < items.size(); ++i) {
    std::optional<std::string> p = ReadString(items[i], Index(path, i), errors);
    if (!p) continue;
    if (p->empty()) {
      errors.Add(items[i], Index(path, i), "a product label value is empty");
    } else if (std::find(e.type.products.begin(), e.type.products.end(), *p) != e.type.products.end()) {
      errors.Add(items[i], Index(path, i), StrCat(Quote(*p), " is listed twice"));
    } else {
      e.type.products.push_back(*p);
      e.product_marks.push_back(items[i].Mark());
    }
  }
}

// Reads one gpu_types entry; std::nullopt when it has no valid name.
std::optional<TypeEntry> ReadTypeEntry(const YAML::Node& node, size_t index, Errors& errors) {
  TypeEntry e;
  e.path = Index("gpu_types", index);
  e.mark = node.Mark();
  const Fields fields = MapFields(node, e.path, {"name", "rank", "products"}, errors);
  const Field* name = Find(fields, "name");
  if (name == nullptr) {
    if (node.IsMap()) errors.Add(node, e.path, "a gpu type needs a name");
    return std::nullopt;
  }
  std::optional<std::string> n = ReadString(name->value, Join(e.path, "name"), errors);
  if (!n) return std::nullopt;
  if (!IsGpuName(*n)) {
    errors.Add(name->value, Join(e.path, "name"),
               StrCat(Quote(*n), " is not a gpu type name (letters, digits, '-', '_', '.', '+'; at most 63)"));
    return std::nullopt;
  }
  e.type.name = *n;
  if (const Field* rank = Find(fields, "rank")) {
    e.has_rank = true;
    e.type.rank = static_cast<int>(ReadInt(rank->value, Join(e.path, "rank"), 0, 1000000, errors).value_or(0));
  }
  if (const Field* products = Find(fields, "products")) ReadProducts(products->value, e, errors);
  return e;
}

// Drops (and reports) entries whose name is defined twice; reports new types without
// a rank or that differ from a built-in type only in case.
std::vector<TypeEntry> UniqueTypeEntries(std::vector<TypeEntry> entries, const GpuCatalog& builtin, Errors& errors) {
  std::vector<TypeEntry> out;
  for (TypeEntry& e : entries) {
    const std::string name_path = Join(e.path, "name");
    auto same = std::find_if(out.begin(), out.end(), [&](const TypeEntry& o) { return o.type.name == e.type.name; });
    if (same != out.end()) {
      errors.Add(e.mark, name_path, StrCat(Quote(e.type.name), " is already defined at ", same->path));
      continue;
    }
    if (builtin.FindType(e.type.name) == kNoGpuType) {
      for (const std::string& t : TypeNames(builtin)) {
        if (absl::EqualsIgnoreCase(ToAbsl(t), ToAbsl(e.type.name))) {
          errors.Add(e.mark, name_path,
                     StrCat(Quote(e.type.name), " differs from the built-in type ", Quote(t), " only in case"));
        }
      }
      if (!e.has_rank) {
        errors.Add(e.mark, Join(e.path, "rank"),
                   StrCat("the new gpu type ", Quote(e.type.name), " needs a rank (built-in types keep theirs)"));
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Errors for products claimed by two types; the second claim is dropped.
void CheckProducts(const GpuCatalog& builtin, std::vector<TypeEntry>& entries, Errors& errors) {
  std::map<std::string, std::string> owner;  // product -> who has it, for messages
  for (GpuTypeId id = 0; id < builtin.size(); ++id) {
    const GpuType& t = builtin.type(id);
    auto e = std::find_if(entries.begin(), entries.end(), [&](const TypeEntry& x) { return x.type.name == t.name; });
    if (e != entries.end() && e->has_products) continue;  // replaced
    for (const std::string& p : t.products) owner[p] = StrCat("the built-in type ", t.name);
  }
  for (TypeEntry& e : entries) {
    std::vector<std::string> kept;
    for (size_t i = 0; i < e.type.products.size(); ++i) {
      const std::string& p = e.type.products[i];
      auto [it, inserted] = owner.emplace(p, StrCat("the gpu type ", e.type.name, " (", e.path, ")"));
      if (!inserted) {
        errors.Add(e.product_marks[i], Join(e.path, "products"), StrCat(Quote(p), " already belongs to ", it->second));
      } else {
        kept.push_back(p);
      }
    }
    e.type.products = std::move(kept);
  }
}

// The built-in catalog with overrides applied, then the new types, in order.
GpuCatalog BuildTypes(const YAML::Node& node, Errors& errors) {
  const GpuCatalog builtin = GpuCatalog::Default();
  std::vector<TypeEntry> read;
  const std::vector<YAML::Node> items = WithinLimit(Items(node, "gpu_types", errors), kMaxGpuTypes - 1, "gpu_types",
                                                    "gpu types", errors);
  for (size_t i = 0; i < items.size(); ++i) {
    if (std::optional<TypeEntry> e = ReadTypeEntry(items[i], i, errors)) read.push_back(std::move(*e));
  }
  std::vector<TypeEntry> entries = UniqueTypeEntries(std::move(read), builtin, errors);
  CheckProducts(builtin, entries, errors);
  GpuCatalog catalog;
  catalog.set_product_labels(builtin.product_labels());
  for (GpuTypeId id = 0; id < builtin.size(); ++id) {
    GpuType t = builtin.type(id);
    for (const TypeEntry& e : entries) {
      if (e.type.name != t.name) continue;
      if (e.has_rank) t.rank = e.type.rank;
      if (e.has_products) t.products = e.type.products;
    }
    (void)catalog.AddType(std::move(t));  // cannot fail: the built-ins are distinct
  }
  for (const TypeEntry& e : entries) {
    if (catalog.FindType(e.type.name) != kNoGpuType) continue;  // an override, applied above
    if (absl::Status s = catalog.AddType(e.type); !s.ok()) errors.Add(e.mark, e.path, std::string(s.message()));
  }
  return catalog;
}

// ---- gpu_classes ----

struct ClassEntry {
  std::string name;
  std::string path;  // "gpu_classes[1]"
  YAML::Mark mark;
  std::vector<Named> members;  // from `types`
  std::optional<Named> min;
};

std::optional<ClassEntry> ReadClassEntry(const YAML::Node& node, size_t index, Errors& errors) {
  ClassEntry c;
  c.path = Index("gpu_classes", index);
  c.mark = node.Mark();
  const Fields fields = MapFields(node, c.path, {"name", "types", "min"}, errors);
  const Field* name = Find(fields, "name");
  const Field* types = Find(fields, "types");
  const Field* min = Find(fields, "min");
  if (!node.IsMap()) return std::nullopt;
  if (name == nullptr) {
    errors.Add(node, c.path, "a gpu class needs a name");
    return std::nullopt;
  }
  std::optional<std::string> n = ReadString(name->value, Join(c.path, "name"), errors);
  if (!n) return std::nullopt;
  if (!IsGpuName(*n)) {
    errors.Add(name->value, Join(c.path, "name"),
               StrCat(Quote(*n), " is not a gpu class name (letters, digits, '-', '_', '.', '+'; at most 63)"));
    return std::nullopt;
  }
  c.name = *n;
  if ((types == nullptr) == (min == nullptr)) {
    errors.Add(node, c.path, StrCat("gpu class ", Quote(c.name), " needs either types or min (not both)"));
  }
  if (min != nullptr) {
    if (auto m = ReadString(min->value, Join(c.path, "min"), errors)) c.min = Named{*m, min->value.Mark()};
  }
  if (types != nullptr) {
    const std::string path = Join(c.path, "types");
    const std::vector<YAML::Node> items = Items(types->value, path, errors);
    if (items.empty() && types->value.IsSequence()) errors.Add(types->value, path, "a class needs at least one type");
    for (size_t i = 0; i < items.size(); ++i) {
      if (auto m = ReadString(items[i], Index(path, i), errors)) c.members.push_back(Named{*m, items[i].Mark()});
    }
  }
  return c;
}

// Expands classes (members may be classes) to type masks, reporting unknown
// members and cycles once each.
class ClassResolver {
 public:
  ClassResolver(const std::vector<ClassEntry>& entries, const GpuCatalog& catalog, Errors& errors)
      : entries_(entries),
        catalog_(catalog),
        errors_(errors),
        state_(entries.size(), kNew),
        masks_(entries.size(), 0) {}

  // Marks a class rejected before resolving (its name clashes).
  void Reject(size_t i) { state_[i] = kFailed; }
  // Makes class `i` known as a member of other classes.
  void Register(const std::string& name, size_t i) { index_.emplace(name, i); }
  // The class's types, or std::nullopt if it (or a class it includes) is invalid.
  std::optional<GpuTypeMask> Resolve(size_t i);

 private:
  enum State { kNew, kVisiting, kDone, kFailed };
  bool AddMin(const ClassEntry& c, GpuTypeMask& mask);
  bool AddMember(const ClassEntry& c, size_t k, GpuTypeMask& mask);
  std::string Cycle(size_t from) const;

  const std::vector<ClassEntry>& entries_;
  const GpuCatalog& catalog_;
  Errors& errors_;
  std::vector<State> state_;
  std::vector<GpuTypeMask> masks_;
  std::map<std::string, size_t> index_;
  std::vector<size_t> stack_;
};

std::optional<GpuTypeMask> ClassResolver::Resolve(size_t i) {
  if (state_[i] == kDone) return masks_[i];
  if (state_[i] != kNew) return std::nullopt;
  state_[i] = kVisiting;
  stack_.push_back(i);
  const ClassEntry& c = entries_[i];
  GpuTypeMask mask = 0;
  bool ok = !c.min || AddMin(c, mask);
  for (size_t k = 0; k < c.members.size(); ++k) ok = AddMember(c, k, mask) && ok;
  stack_.pop_back();
  state_[i] = ok ? kDone : kFailed;
  masks_[i] = mask;
  return ok ? std::optional<GpuTypeMask>(mask) : std::nullopt;
}

bool ClassResolver::AddMin(const ClassEntry& c, GpuTypeMask& mask) {
  const GpuTypeId min = catalog_.FindType(c.min->name);
  if (min == kNoGpuType) {
    const std::string why = index_.contains(c.min->name)
                                ? " is a class; min takes a gpu type"
                                : StrCat(" is not a gpu type", Suggest(c.min->name, TypeNames(catalog_)));
    errors_.Add(c.min->mark, Join(c.path, "min"), StrCat(Quote(c.min->name), why));
    return false;
  }
  for (GpuTypeId id = 0; id < catalog_.size(); ++id) {
    if (catalog_.type(id).known && catalog_.type(id).rank >= catalog_.type(min).rank) mask |= GpuTypeMask{1} << id;
  }
  return true;
}

bool ClassResolver::AddMember(const ClassEntry& c, size_t k, GpuTypeMask& mask) {
  const Named& m = c.members[k];
  const std::string path = Index(Join(c.path, "types"), k);
  if (GpuTypeId t = catalog_.FindType(m.name); t != kNoGpuType) {
    mask |= GpuTypeMask{1} << t;
    return true;
  }
  auto it = index_.find(m.name);
  if (it == index_.end()) {
    std::vector<std::string> names = TypeNames(catalog_);
    for (const auto& [name, i] : index_) names.push_back(name);
    errors_.Add(m.mark, path, StrCat(Quote(m.name), " is not a gpu type or class", Suggest(m.name, names)));
    return false;
  }
  if (state_[it->second] == kVisiting) {
    errors_.Add(m.mark, path, StrCat("gpu classes form a cycle: ", Cycle(it->second)));
    return false;
  }
  const std::optional<GpuTypeMask> sub = Resolve(it->second);  // its own errors are reported there
  if (sub) mask |= *sub;
  return sub.has_value();
}

std::string ClassResolver::Cycle(size_t from) const {
  std::string out;
  bool on = false;
  for (size_t i : stack_) {
    on = on || i == from;
    if (on) StrAppend(&out, entries_[i].name, " -> ");
  }
  return out + entries_[from].name;
}

void AddClasses(const YAML::Node& node, GpuCatalog& catalog, Errors& errors) {
  std::vector<ClassEntry> entries;
  const std::vector<YAML::Node> items = WithinLimit(Items(node, "gpu_classes", errors), kMaxGpuClasses,
                                                    "gpu_classes", "gpu classes", errors);
  for (size_t i = 0; i < items.size(); ++i) {
    if (std::optional<ClassEntry> c = ReadClassEntry(items[i], i, errors)) entries.push_back(std::move(*c));
  }
  ClassResolver resolver(entries, catalog, errors);
  std::map<std::string, std::string> seen;  // name -> path
  for (size_t i = 0; i < entries.size(); ++i) {
    const ClassEntry& c = entries[i];
    if (catalog.FindType(c.name) != kNoGpuType) {
      errors.Add(c.mark, Join(c.path, "name"), StrCat(Quote(c.name), " is already the name of a gpu type"));
      resolver.Reject(i);
    } else if (auto [it, inserted] = seen.emplace(c.name, c.path); !inserted) {
      errors.Add(c.mark, Join(c.path, "name"), StrCat(Quote(c.name), " is already defined at ", it->second));
      resolver.Reject(i);
    } else {
      resolver.Register(c.name, i);
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::optional<GpuTypeMask> mask = resolver.Resolve(i);
    if (!mask || *mask == 0) continue;  // errors reported; 0 = an empty `types`, reported
    std::vector<std::string> types;
    for (GpuTypeId id : catalog.ByRank(*mask)) types.push_back(catalog.type(id).name);
    if (absl::Status s = catalog.AddClass(entries[i].name, types, ""); !s.ok()) {
      errors.Add(entries[i].mark, entries[i].path, std::string(s.message()));
    }
  }
}

// ---- product_labels, tiers, proportional, placement ----

void ReadProductLabels(const YAML::Node& node, GpuCatalog& catalog, Errors& errors) {
  const std::vector<YAML::Node> items = Items(node, "product_labels", errors);
  if (items.empty() && (node.IsNull() || node.IsSequence())) {
    errors.Add(node, "product_labels", "needs at least one label key (omit it to keep the defaults)");
    return;
  }
  std::vector<std::string> keys;
  for (size_t i = 0; i < items.size(); ++i) {
    std::optional<std::string> key = ReadString(items[i], Index("product_labels", i), errors);
    if (!key) continue;
    if (!IsLabelKey(*key)) {
      errors.Add(items[i], Index("product_labels", i), StrCat(Quote(*key), " is not a Kubernetes label key"));
    } else {
      keys.push_back(*key);
    }
  }
  catalog.set_product_labels(std::move(keys));
}

void ReadTiers(const YAML::Node& node, QueueConfig& out, Errors& errors) {
  for (const Field& f : MapFields(node, "tiers", {"default", "priority_classes"}, errors)) {
    const std::string path = Join("tiers", f.key);
    if (f.key == "default") {
      out.default_tier = static_cast<int>(ReadInt(f.value, path, 0, 2, errors).value_or(1));
      continue;
    }
    for (const Field& pc : MapEntries(f.value, path, errors)) {
      const std::string pc_path = Join(path, pc.key);
      if (!IsLabelKey(pc.key) || pc.key.find('/') != std::string::npos) {
        errors.Add(pc.key_node, pc_path, StrCat(Quote(pc.key), " is not a priority class name"));
      } else if (std::optional<int64_t> tier = ReadInt(pc.value, pc_path, 0, 2, errors)) {
        out.priority_class_tiers[pc.key] = static_cast<int>(*tier);
      }
    }
  }
}

std::optional<std::string> ReadGpuTypeRef(const Field& f, const std::string& path, const GpuCatalog& catalog,
                                          Errors& errors) {
  std::optional<std::string> name = ReadString(f.value, path, errors);
  if (!name || catalog.FindType(*name) != kNoGpuType) return name;
  const std::string why = catalog.FindClass(*name) != nullptr
                              ? " is a gpu class; a proportional policy is per gpu type"
                              : StrCat(" is not a gpu type", Suggest(*name, TypeNames(catalog)));
  errors.Add(f.value, path, StrCat(Quote(*name), why));
  return std::nullopt;
}

std::optional<int64_t> ReadPerGpu(const Field& f, const std::string& path, Unit unit, Errors& errors) {
  std::optional<int64_t> v = ReadQuantity(f.value, path, unit, errors);
  if (v && *v == 0) {
    errors.Add(f.value, path, "0 would reject every GPU pod that asks for any; leave the key out for no bound");
    return std::nullopt;
  }
  return v;
}

void ReadPolicy(const YAML::Node& node, const std::string& path, const GpuCatalog& catalog, QueueConfig& out,
                Errors& errors) {
  ProportionalPolicy p;
  const Fields fields = MapFields(node, path, {"gpu_type", "cpu_per_gpu", "memory_per_gpu", "action"}, errors);
  if (!node.IsMap()) return;
  const Field* type = Find(fields, "gpu_type");
  const Field* cpu = Find(fields, "cpu_per_gpu");
  const Field* memory = Find(fields, "memory_per_gpu");
  const Field* action = Find(fields, "action");
  if (type == nullptr) errors.Add(node, path, "a proportional policy needs a gpu_type");
  if (cpu == nullptr && memory == nullptr) errors.Add(node, path, "give cpu_per_gpu, memory_per_gpu or both");
  std::optional<std::string> name =
      type ? ReadGpuTypeRef(*type, Join(path, "gpu_type"), catalog, errors) : std::nullopt;
  if (cpu != nullptr) p.cpu_millis_per_gpu = ReadPerGpu(*cpu, Join(path, "cpu_per_gpu"), Unit::kMilli, errors);
  if (memory != nullptr) {
    p.memory_bytes_per_gpu = ReadPerGpu(*memory, Join(path, "memory_per_gpu"), Unit::kUnits, errors);
  }
  if (action != nullptr) {
    const std::string action_path = Join(path, "action");
    std::optional<std::string> a = ReadString(action->value, action_path, errors);
    if (a && *a == "charge") p.action = ProportionalPolicy::Action::kCharge;
    if (a && *a != "charge" && *a != "reject") {
      errors.Add(action->value, action_path, StrCat(Quote(*a), " is not an action: use reject or charge"));
    }
  }
  if (!name) return;
  for (const ProportionalPolicy& other : out.proportional) {
    if (other.gpu_type == *name) {
      errors.Add(type->value, Join(path, "gpu_type"), StrCat("gpu type ", *name, " already has a policy above"));
      return;
    }
  }
  p.gpu_type = *name;
  out.proportional.push_back(std::move(p));
}

void ReadProportional(const YAML::Node& node, const GpuCatalog& catalog, QueueConfig& out, Errors& errors) {
  const std::vector<YAML::Node> items = Items(node, "proportional", errors);
  for (size_t i = 0; i < items.size(); ++i) ReadPolicy(items[i], Index("proportional", i), catalog, out, errors);
}

// A queue path that must name an existing leaf queue.
std::optional<std::string> ReadLeafRef(const YAML::Node& node, const std::string& path,
                                       const std::map<std::string, bool>& queues, Errors& errors) {
  std::optional<std::string> ref = ReadString(node, path, errors);
  if (!ref) return std::nullopt;
  auto it = queues.find(*ref);
  if (it == queues.end()) {
    std::string hint;
    if (queues.contains(StrCat("root.", *ref))) {
      hint = StrCat(" (did you mean \"root.", *ref, "\"? paths start at root)");
    } else {
      std::vector<std::string> paths;
      for (const auto& [p, leaf] : queues) paths.push_back(p);
      hint = Suggest(*ref, paths);
    }
    errors.Add(node, path, StrCat("no queue ", Quote(*ref), hint));
    return std::nullopt;
  }
  if (!it->second) {
    errors.Add(node, path, StrCat("queue ", Quote(*ref), " has children; pods go only to leaf queues"));
    return std::nullopt;
  }
  return ref;
}

void ReadPlacement(const YAML::Node& node, const std::map<std::string, bool>& queues, QueueConfig& out,
                   Errors& errors) {
  for (const Field& f : MapFields(node, "placement", {"namespaces", "default_queue", "application_label"}, errors)) {
    const std::string path = Join("placement", f.key);
    if (f.key == "namespaces") {
      for (const Field& ns : MapEntries(f.value, path, errors)) {
        const std::string ns_path = Join(path, ns.key);
        if (!config_internal::IsDnsLabel(ns.key)) {
          errors.Add(ns.key_node, ns_path, StrCat(Quote(ns.key), " is not a namespace name"));
        } else if (auto q = ReadLeafRef(ns.value, ns_path, queues, errors)) {
          out.namespace_queues[ns.key] = *q;
        }
      }
    } else if (f.key == "default_queue") {
      out.default_queue = ReadLeafRef(f.value, path, queues, errors).value_or("");
    } else if (std::optional<std::string> label = ReadString(f.value, path, errors)) {
      if (IsLabelKey(*label)) {
        out.application_label = *label;
      } else {
        errors.Add(f.value, path, StrCat(Quote(*label), " is not a Kubernetes label key"));
      }
    }
  }
}

// ---- The document ----

// Counts a YAML text's values (scalars, lists, mappings, aliases) from the parser's
// events, building no nodes: yaml-cpp's nodes cost about 0.5 KB each, so a document
// is measured before it is loaded. Throws TooMany past `limit`.
class ValueCounter : public YAML::EventHandler {
 public:
  struct TooMany {
    YAML::Mark mark;
  };
  explicit ValueCounter(size_t limit) : limit_(limit) {}
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { Count(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Count(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { Count(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Count(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Count(m);
  }
  void OnMapEnd() override {}

 private:
  void Count(const YAML::Mark& m) {
    if (++count_ > limit_) throw TooMany{m};
  }
  const size_t limit_;
  size_t count_ = 0;
};

// Whether the text has at most kMaxYamlValues values; reports it if not.
bool WithinValueLimit(std::string_view text, Errors& errors) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  ValueCounter counter(kMaxYamlValues);
  try {
    while (parser.HandleNextDocument(counter)) {
    }
  } catch (const ValueCounter::TooMany& e) {
    errors.Add(e.mark, "", StrCat("the document has more than ", kMaxYamlValues, " YAML values (the limit)"));
    return false;
  }
  return true;
}

// The one mapping of the document, or std::nullopt (errors reported).
std::optional<YAML::Node> LoadDocument(std::string_view text, Errors& errors) {
  std::vector<YAML::Node> docs;
  try {
    if (!WithinValueLimit(text, errors)) return std::nullopt;
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    errors.Add(e.mark, "",
               StrCat("the document nests too deep for YAML (", e.depth(), " levels; queues may nest ",
                      kMaxQueueDepth, " levels below root)"));
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    const bool tabs = text.find("\n\t") != std::string_view::npos || text.starts_with('\t');
    errors.Add(e.mark, "", StrCat("invalid YAML: ", e.msg, tabs ? " (YAML does not allow tabs for indentation)" : ""));
    return std::nullopt;
  }
  if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
    errors.Add(YAML::Mark::null_mark(), "", "the document is empty");
    return std::nullopt;
  }
  if (docs.size() > 1) {
    errors.Add(docs[1], "", StrCat("expected one YAML document, found ", docs.size(), " (remove the '---')"));
    return std::nullopt;
  }
  if (!docs[0].IsMap()) {
    errors.Add(docs[0], "",
               StrCat("the document must be a mapping of sections, got ", config_internal::KindOf(docs[0])));
    return std::nullopt;
  }
  return docs[0];
}

bool AnySubmit(const QueueSpec& q) {
  if (q.submit.set) return true;
  return std::any_of(q.children.begin(), q.children.end(), [](const QueueSpec& c) { return AnySubmit(c); });
}

void ReadDocument(const YAML::Node& doc, QueueConfig& out, Errors& errors) {
  const Fields f = MapFields(
      doc, "", {"gpu_types", "gpu_classes", "product_labels", "tiers", "proportional", "placement", "admins", "admission", "topology", "queues"},
      errors);
  auto section = [&f](std::string_view key) {
    const Field* s = Find(f, key);
    return s ? s->value : YAML::Node();
  };
  out.catalog = BuildTypes(section("gpu_types"), errors);
  AddClasses(section("gpu_classes"), out.catalog, errors);
  if (Find(f, "product_labels") != nullptr) ReadProductLabels(section("product_labels"), out.catalog, errors);
  ReadTiers(section("tiers"), out, errors);
  ReadProportional(section("proportional"), out.catalog, out, errors);
  const config_internal::QueueDraft root = config_internal::ParseQueueTree(section("queues"), out.catalog, errors);
  config_internal::CheckQueueTree(root, errors);
  ReadPlacement(section("placement"), config_internal::QueuePaths(root), out, errors);
  out.root = config_internal::BuildQueueSpec(root);
  out.submit_enforced = AnySubmit(out.root);
  if (Find(f, "admission") != nullptr) {
    out.admission = config_internal::ReadAdmissionSection(section("admission"), out.catalog, errors);
  }
  if (Find(f, "topology") != nullptr) out.topology_levels = config_internal::ReadTopologySection(section("topology"), errors);
  if (Find(f, "admins") != nullptr) out.cluster_admins = config_internal::ReadAdmins(section("admins"), "admins", errors);
}

}  // namespace

namespace config_internal {

// A Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of
// at most 63 characters.
bool IsLabelKey(std::string_view key) {
  const size_t slash = key.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  const std::string_view prefix = slash == std::string_view::npos ? "" : key.substr(0, slash);
  if (slash != std::string_view::npos && (prefix.empty() || prefix.size() > 253)) return false;
  for (char c : prefix) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return IsGpuName(name) && name.find('+') == std::string_view::npos;
}

}  // namespace config_internal

absl::StatusOr<QueueConfig> ParseQueueConfig(std::string_view yaml_text, std::string_view source) {
  return ParseQueueConfig(yaml_text, source, nullptr);
}

absl::StatusOr<QueueConfig> ParseQueueConfig(std::string_view yaml_text, std::string_view source,
                                             std::vector<ConfigError>* structured) {
  Errors errors(source);
  auto fail = [&errors, structured] {
    if (structured != nullptr) *structured = errors.Structured();
    return errors.ToStatus();
  };
  if (yaml_text.size() > kMaxDocumentBytes) {
    errors.Add(YAML::Mark::null_mark(), "",
               StrCat("the document is ", yaml_text.size(), " bytes; the limit is ", kMaxDocumentBytes,
                      " bytes (16 MiB)"));
    return fail();
  }
  QueueConfig config;
  try {
    if (std::optional<YAML::Node> doc = LoadDocument(yaml_text, errors)) ReadDocument(*doc, config, errors);
  } catch (const std::exception& e) {  // yaml-cpp on input we did not foresee: still an error, not a crash
    errors.Add(YAML::Mark::null_mark(), "", StrCat("could not read the document: ", e.what()));
  }
  if (!errors.empty()) return fail();
  return config;
}

absl::StatusOr<QueueConfig> LoadQueueConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::error_code ec;
  if (const uintmax_t size = std::filesystem::file_size(path, ec); !ec && size > kMaxDocumentBytes) {
    return absl::InvalidArgumentError(
        StrCat(path, ": the document is ", size, " bytes; the limit is ", kMaxDocumentBytes, " bytes (16 MiB)"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(StrCat(path, ": read failed"));
  return ParseQueueConfig(text.str(), path);
}

QueueConfig DefaultQueueConfig() {
  QueueConfig config;
  config.catalog = GpuCatalog::Default();
  config.root.name = "root";
  config.root.path = "root";
  config.default_queue = "root";
  config.default_tier = 1;
  return config;
}

}  // namespace drover
