// The YAML field readers of ParseQueueConfig, and the queue tree: reading it and
// checking its quotas against each other (see config_internal.h).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_join.h"
#include "core/quantity.h"
#include "core/resources.h"
#include "core/strings.h"
#include "queues/config_internal.h"

namespace drover::config_internal {

void Errors::Add(const YAML::Mark& at, std::string_view path, std::string_view message) {
  if (entries_.size() >= kMaxErrorsListed) {
    ++unlisted_;  // a broken 16 MiB document must not become a gigabyte of messages
    return;
  }
  std::string text = source_;
  if (at.line >= 0) StrAppend(&text, ":", at.line + 1, ":", at.column + 1);
  // Values in messages are quoted cut (Quote); a path may still hold a huge key.
  StrAppend(&text, ": ", CutForMessage(path, 2 * kMaxQuotedBytes), path.empty() ? "" : ": ",
            CutForMessage(message, 8 * kMaxQuotedBytes));
  ConfigError e{std::string(CutForMessage(path, 2 * kMaxQuotedBytes)), std::string(CutForMessage(message, 8 * kMaxQuotedBytes)),
                at.line >= 0 ? at.line + 1 : 0, at.line >= 0 ? at.column + 1 : 0};
  entries_.push_back({at.line, std::move(text), std::move(e)});
}

std::vector<ConfigError> Errors::Structured() const {
  std::vector<Entry> sorted = entries_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) { return a.line < b.line; });
  std::vector<ConfigError> out;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i].text == sorted[i - 1].text) continue;
    out.push_back(sorted[i].error);
  }
  return out;
}

absl::Status Errors::ToStatus() const {
  if (entries_.empty()) return absl::OkStatus();
  std::vector<Entry> sorted = entries_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) { return a.line < b.line; });
  std::vector<std::string> lines;
  for (const Entry& e : sorted) {
    if (lines.empty() || lines.back() != e.text) lines.push_back(e.text);
  }
  if (unlisted_ > 0) {
    lines.push_back(StrCat(source_, ": and ", unlisted_, " more errors (only the first ", kMaxErrorsListed,
                           " are listed)"));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

std::string Quote(std::string_view s) {
  const size_t keep = MessageCutPoint(s);
  if (keep == s.size()) return StrCat("\"", s, "\"");
  return StrCat("\"", s.substr(0, keep), "\"", CutMarker(s.size()));
}
std::string Join(std::string_view a, std::string_view b) { return a.empty() ? std::string(b) : StrCat(a, ".", b); }
std::string Index(std::string_view path, size_t i) { return StrCat(path, "[", i, "]"); }

std::string_view KindOf(const YAML::Node& node) {
  if (!node || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return "a single value";
}

namespace {

// Optimal string alignment distance: a swap of two letters is one edit. Case is
// ignored, and so is O for 0 (the usual typo in "A1OO").
size_t EditDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return c == 'o' ? '0' : c;
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

void ReportUnknownKey(const Field& f, std::string_view path, std::initializer_list<std::string_view> known,
                      Errors& errors) {
  const std::vector<std::string> candidates(known.begin(), known.end());
  std::string hint = Suggest(f.key, candidates);
  if (f.key == "<<") hint = " (YAML merge keys are not supported: write the keys out)";
  if (hint.empty()) hint = StrCat(" (known keys: ", absl::StrJoin(candidates, ", "), ")");
  errors.Add(f.key_node, Join(path, f.key), StrCat("unknown key", hint));
}

}  // namespace

std::string Suggest(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.size() > 2 * 63) return "";  // no name is that long; and the distance table is |word| x |candidate|
  const size_t limit = word.size() <= 3 ? 1 : word.size() <= 6 ? 2 : 3;
  const std::string* best = nullptr;
  size_t best_distance = limit + 1;
  auto length_gap = [&word](const std::string& c) {
    return c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
  };
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d >= c.size()) continue;
    // On a tie, prefer the candidate of the word's length ("A1OO" -> "A100", not "A10").
    if (d < best_distance || (d == best_distance && best != nullptr && length_gap(c) < length_gap(*best))) {
      best = &c;
      best_distance = d;
    }
  }
  return best == nullptr ? "" : StrCat(" (did you mean ", Quote(*best), "?)");
}

bool IsQueueName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsLowerAlnum(c) || c == '-' || c == '_'; });
}

bool IsDnsLabel(std::string_view name) { return IsQueueName(name) && name.find('_') == std::string_view::npos; }

std::vector<std::string> TypeNames(const GpuCatalog& catalog) {
  std::vector<std::string> names;
  for (GpuTypeId id = 0; id < catalog.size(); ++id) names.push_back(catalog.type(id).name);
  return names;
}

Fields MapEntries(const YAML::Node& node, std::string_view path, Errors& errors) {
  Fields out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) {
    errors.Add(node, path, StrCat("expected a mapping, got ", KindOf(node)));
    return out;
  }
  absl::flat_hash_map<std::string, size_t> seen;  // key -> index in out (a mapping may have 100,000s of keys)
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      errors.Add(key, path, StrCat("a key must be a plain string, got ", KindOf(key)));
      continue;
    }
    if (auto [first, inserted] = seen.emplace(key.Scalar(), out.size()); !inserted) {
      errors.Add(key, Join(path, key.Scalar()),
                 StrCat("key given twice (first at line ", out[first->second].key_node.Mark().line + 1, ")"));
      continue;
    }
    out.push_back(Field{key.Scalar(), key, it->second});
  }
  return out;
}

Fields MapFields(const YAML::Node& node, std::string_view path, std::initializer_list<std::string_view> known,
                 Errors& errors) {
  Fields out;
  for (Field& f : MapEntries(node, path, errors)) {
    if (std::find(known.begin(), known.end(), f.key) == known.end()) {
      ReportUnknownKey(f, path, known, errors);
    } else {
      out.push_back(std::move(f));
    }
  }
  return out;
}

const Field* Find(const Fields& fields, std::string_view key) {
  for (const Field& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::vector<YAML::Node> Items(const YAML::Node& node, std::string_view path, Errors& errors) {
  std::vector<YAML::Node> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsSequence()) {
    errors.Add(node, path, StrCat("expected a list, got ", KindOf(node)));
    return out;
  }
  for (const YAML::Node& item : node) out.push_back(item);
  return out;
}

std::optional<std::string> ReadString(const YAML::Node& node, std::string_view path, Errors& errors) {
  if (!node || node.IsNull()) {
    errors.Add(node, path, "missing value");
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    errors.Add(node, path, StrCat("expected a single value, got ", KindOf(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<int64_t> ReadInt(const YAML::Node& node, std::string_view path, int64_t min, int64_t max,
                               Errors& errors) {
  const std::optional<std::string> text = ReadString(node, path, errors);
  if (!text) return std::nullopt;
  int64_t v = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, v);
  if (text->empty() || ec != std::errc() || ptr != end) {
    errors.Add(node, path, StrCat(Quote(*text), " is not a whole number"));
    return std::nullopt;
  }
  if (v < 0 && min == 0 && max == std::numeric_limits<int64_t>::max()) {
    errors.Add(node, path, StrCat(v, " is negative"));
    return std::nullopt;
  }
  if (v < min || v > max) {
    errors.Add(node, path, StrCat(v, " is outside ", min, "..", max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> ReadPositiveNumber(const YAML::Node& node, std::string_view path, Errors& errors) {
  const std::optional<std::string> text = ReadString(node, path, errors);
  if (!text) return std::nullopt;
  double v = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, v);
  if (text->empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) {
    errors.Add(node, path, StrCat(Quote(*text), " is not a number"));
    return std::nullopt;
  }
  if (v <= 0) {
    errors.Add(node, path, StrCat(Quote(*text), " must be above 0"));
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ReadQuantity(const YAML::Node& node, std::string_view path, Unit unit, Errors& errors) {
  const std::optional<std::string> text = ReadString(node, path, errors);
  if (!text) return std::nullopt;
  const absl::StatusOr<Quantity> q = Quantity::Parse(*text);
  if (!q.ok()) {  // the reason follows `quantity "<text>": `
    const std::string_view message(q.status().message().data(), q.status().message().size());
    const size_t colon = message.find("\": ");
    const std::string_view why = colon == std::string_view::npos ? message : message.substr(colon + 3);
    errors.Add(node, path, StrCat(Quote(*text), " is not a quantity like 16, 0.5, 500m or 64Gi: ", why));
    return std::nullopt;
  }
  if (q->IsNegative()) {
    errors.Add(node, path, StrCat(Quote(*text), " is negative"));
    return std::nullopt;
  }
  const absl::StatusOr<int64_t> v = unit == Unit::kMilli ? q->Milli() : q->Units();
  if (!v.ok()) {
    errors.Add(node, path, StrCat(Quote(*text), " is too large"));
    return std::nullopt;
  }
  return *v;
}

// ---- The queue tree ----

namespace {

constexpr std::string_view kCpu = "cpu";
constexpr std::string_view kMemory = "memory";
constexpr std::string_view kGpuPrefix = "gpu.";

std::string FormatDim(std::string_view dim, int64_t amount) {
  if (dim == kCpu) return FormatMilli(amount);
  if (dim == kMemory) return FormatBytes(amount);
  return FormatAmount(Res::kGpu, amount);
}

void ReadGpuAmounts(const YAML::Node& node, const std::string& path, const GpuCatalog& catalog, QuotaDraft& out,
                    Errors& errors) {
  for (const Field& f : MapEntries(node, path, errors)) {
    const std::string field_path = Join(path, f.key);
    if (catalog.FindType(f.key) == kNoGpuType) {
      const std::string why = catalog.FindClass(f.key) != nullptr
                                  ? " is a gpu class; quotas are per gpu type, so list its types"
                                  : StrCat(" is not a gpu type", Suggest(f.key, TypeNames(catalog)));
      errors.Add(f.key_node, field_path, StrCat(Quote(f.key), why));
      continue;
    }
    if (auto v = ReadQuantity(f.value, field_path, Unit::kMilli, errors)) {
      out[StrCat(kGpuPrefix, f.key)] = Amount{*v, f.value.Mark()};
    }
  }
}

QuotaDraft ReadQuota(const YAML::Node& node, const std::string& path, const GpuCatalog& catalog, Errors& errors) {
  QuotaDraft out;
  for (const Field& f : MapFields(node, path, {"cpu", "memory", "gpu"}, errors)) {
    const std::string field_path = Join(path, f.key);
    if (f.key == "gpu") {
      ReadGpuAmounts(f.value, field_path, catalog, out, errors);
    } else if (auto v = ReadQuantity(f.value, field_path, f.key == kCpu ? Unit::kMilli : Unit::kUnits, errors)) {
      out[f.key] = Amount{*v, f.value.Mark()};
    }
  }
  return out;
}

QueueLimits ReadLimits(const YAML::Node& node, const std::string& path, Errors& errors) {
  QueueLimits out;
  const Fields fields =
      MapFields(node, path, {"max_running_pods", "max_pending_pods", "max_running_apps", "max_pending_apps"}, errors);
  for (const Field& f : fields) {
    const std::optional<int64_t> v =
        ReadInt(f.value, Join(path, f.key), 0, std::numeric_limits<int64_t>::max(), errors);
    if (f.key == "max_running_pods") out.max_running_pods = v;
    if (f.key == "max_pending_pods") out.max_pending_pods = v;
    if (f.key == "max_running_apps") out.max_running_apps = v;
    if (f.key == "max_pending_apps") out.max_pending_apps = v;
  }
  return out;
}

// Reads a list of names for `submit`; `valid` says whether one is acceptable.
std::vector<std::string> ReadNames(const YAML::Node& node, const std::string& path, bool (*valid)(std::string_view),
                                   std::string_view what, Errors& errors) {
  std::vector<std::string> out;
  const std::vector<YAML::Node> items = Items(node, path, errors);
  for (size_t i = 0; i < items.size(); ++i) {
    std::optional<std::string> name = ReadString(items[i], Index(path, i), errors);
    if (!name) continue;
    if (!valid(*name)) {
      errors.Add(items[i], Index(path, i), StrCat(Quote(*name), " is not ", what));
    } else {
      out.push_back(*name);
    }
  }
  return out;
}

bool IsNamespaceOrAny(std::string_view s) { return s == "*" || IsDnsLabel(s); }
bool IsPrincipalName(std::string_view s) {
  return !s.empty() && s.size() <= 253 &&
         std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

SubmitAcl ReadSubmit(const YAML::Node& node, const std::string& path, Errors& errors) {
  SubmitAcl out;
  out.set = true;
  for (const Field& f : MapFields(node, path, {"namespaces", "users", "groups"}, errors)) {
    const std::string field = Join(path, f.key);
    if (f.key == "namespaces") {
      out.namespaces = ReadNames(f.value, field, IsNamespaceOrAny, "a namespace name or \"*\"", errors);
    } else if (f.key == "users") {
      out.users = ReadNames(f.value, field, IsPrincipalName, "a user name", errors);
    } else {
      out.groups = ReadNames(f.value, field, IsPrincipalName, "a group name", errors);
    }
  }
  return out;
}

// Sets name and path. A child without a valid name gets the path "parent.children[i]".
void ReadQueueName(const YAML::Node& node, const std::string& parent_path, size_t index, QueueDraft& q,
                   Errors& errors) {
  const bool is_root = parent_path.empty();
  q.name = is_root ? "root" : "";
  q.path = is_root ? "root" : Index(Join(parent_path, "children"), index);
  q.named = is_root;
  if (!node.IsMap()) return;  // reported by the caller's MapFields
  const YAML::Node name_node = node["name"];
  if (!name_node) {
    if (!is_root) errors.Add(node, q.path, "a queue needs a name");
    return;
  }
  const std::optional<std::string> name = ReadString(name_node, Join(q.path, "name"), errors);
  if (!name) return;
  if (is_root) {
    if (*name != "root") errors.Add(name_node, "root.name", StrCat(Quote(*name), ": the top queue is always \"root\""));
    return;
  }
  if (!IsQueueName(*name)) {
    errors.Add(name_node, Join(q.path, "name"),
               StrCat(Quote(*name),
                      " is not a queue name (lowercase letters, digits, '-' and '_', starting and "
                      "ending with a letter or digit, at most 63 characters)"));
    return;
  }
  q.name = *name;
  q.path = Join(parent_path, *name);
  q.named = true;
}

// What reading the tree has seen so far, to keep it bounded: the YAML nodes of
// the queues above the one being read (an alias back to one of them would make
// the tree infinite) and how many queues were read.
struct TreeWalk {
  const GpuCatalog& catalog;
  std::vector<YAML::Node> ancestors;
  int queues = 0;
};

QueueDraft ReadQueue(const YAML::Node& node, const std::string& parent_path, size_t index, TreeWalk& walk,
                     Errors& errors);

// Whether child `item` of `q` may be read; reports why not.
bool MayDescend(const YAML::Node& item, const QueueDraft& q, size_t index, TreeWalk& walk, Errors& errors) {
  const std::string path = Index(Join(q.path, "children"), index);
  for (const YAML::Node& a : walk.ancestors) {
    if (a.is(item)) {
      errors.Add(item, path,
                 "a YAML alias makes this queue contain itself (an alias inside the queue its anchor names); "
                 "write the subtree out");
      return false;
    }
  }
  if (walk.queues >= kMaxQueues) {
    if (walk.queues++ == kMaxQueues) {  // reported once
      errors.Add(item, path, StrCat("more than ", kMaxQueues, " queues (the limit of a document)"));
    }
    return false;
  }
  return true;
}

void ReadChildren(const YAML::Node& node, QueueDraft& q, TreeWalk& walk, Errors& errors) {
  const std::vector<YAML::Node> items = Items(node, Join(q.path, "children"), errors);
  if (!items.empty() && walk.ancestors.size() > static_cast<size_t>(kMaxQueueDepth)) {
    errors.Add(node, Join(q.path, "children"),
               StrCat("queues nest more than ", kMaxQueueDepth, " levels below root (the limit)"));
    return;
  }
  std::map<std::string, int> first_line;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!MayDescend(items[i], q, i, walk, errors)) continue;
    QueueDraft child = ReadQueue(items[i], q.path, i, walk, errors);
    if (child.named) {
      auto [it, inserted] = first_line.emplace(child.name, child.mark.line + 1);
      if (!inserted) {
        errors.Add(
            child.mark, child.path,
            StrCat("duplicate queue name ", Quote(child.name), " (a sibling at line ", it->second, " has it too)"));
        child.named = false;
      }
    }
    q.children.push_back(std::move(child));
  }
}

QueueDraft ReadQueue(const YAML::Node& node, const std::string& parent_path, size_t index, TreeWalk& walk,
                     Errors& errors) {
  ++walk.queues;
  QueueDraft q;
  q.mark = node.Mark();
  ReadQueueName(node, parent_path, index, q, errors);
  const bool is_root = parent_path.empty();
  const Fields fields = MapFields(node, q.path, {"name", "weight", "guaranteed", "max", "limits", "submit", "admins", "admission", "children"}, errors);
  for (const Field& f : fields) {
    const std::string path = Join(q.path, f.key);
    if (f.key == "weight") {
      if (is_root) {
        errors.Add(f.key_node, path, "weight does not apply to root, which has no siblings");
      } else if (auto w = ReadPositiveNumber(f.value, path, errors)) {
        q.weight = *w;
      }
    } else if (f.key == "guaranteed") {
      if (is_root) {
        errors.Add(f.key_node, path, "root's guaranteed is the whole cluster; set guaranteed on its children");
      } else {
        q.guaranteed = ReadQuota(f.value, path, walk.catalog, errors);
      }
    } else if (f.key == "max") {
      q.max = ReadQuota(f.value, path, walk.catalog, errors);
    } else if (f.key == "limits") {
      q.limits = ReadLimits(f.value, path, errors);
    } else if (f.key == "submit") {
      q.submit = ReadSubmit(f.value, path, errors);
    } else if (f.key == "admins") {
      q.admins = ReadAdmins(f.value, path, errors);
    } else if (f.key == "admission") {
      q.admission = ReadQueueAdmission(f.value, path, errors);
    } else if (f.key == "children") {
      walk.ancestors.push_back(node);
      ReadChildren(f.value, q, walk, errors);
      walk.ancestors.pop_back();
    }
  }
  return q;
}

// The nearest explicit max of a dimension above or at a queue.
struct Ceiling {
  int64_t value;
  std::string set_by;  // "root.safety.max"
};
using Ceilings = std::map<std::string, Ceiling>;

void CheckMaxAboveGuaranteed(const QueueDraft& q, Errors& errors) {
  for (const auto& [dim, m] : q.max) {
    auto g = q.guaranteed.find(dim);
    if (g != q.guaranteed.end() && m.value < g->second.value) {
      errors.Add(m.mark, Join(q.path, StrCat("max.", dim)),
                 StrCat(FormatDim(dim, m.value), " is below guaranteed ", FormatDim(dim, g->second.value)));
    }
  }
}

void CheckUnderCeilings(const QueueDraft& q, const QuotaDraft& quota, std::string_view field, const Ceilings& inherited,
                        Errors& errors) {
  for (const auto& [dim, a] : quota) {
    auto c = inherited.find(dim);
    if (c != inherited.end() && a.value > c->second.value) {
      errors.Add(a.mark, Join(q.path, StrCat(field, ".", dim)),
                 StrCat(FormatDim(dim, a.value), " is above the effective max ", FormatDim(dim, c->second.value),
                        " (from ", c->second.set_by, ")"));
    }
  }
}

// Guaranteed added up over the children, and the largest single child's, per dimension.
// A sum past int64 is held at its largest value, and the child that overflowed it
// is remembered for the error.
struct ChildTotals {
  std::map<std::string, int64_t> sum;
  std::map<std::string, int64_t> largest;
  std::map<std::string, std::string> overflowed_at;  // dim -> "root.b's 9223372036854775", the addend that overflowed

  void Add(const std::string& dim, int64_t v, const std::string& child_path) {
    int64_t& s = sum[dim];
    if (__builtin_add_overflow(s, v, &s)) {
      s = std::numeric_limits<int64_t>::max();
      overflowed_at.emplace(dim, StrCat(child_path, "'s ", FormatDim(dim, v)));
    }
    largest[dim] = std::max(largest[dim], v);
  }
};

void CheckChildrenSums(const QueueDraft& q, const ChildTotals& totals, const Ceilings& ceilings, Errors& errors) {
  for (const auto& [dim, total] : totals.sum) {
    if (auto o = totals.overflowed_at.find(dim); o != totals.overflowed_at.end()) {
      errors.Add(q.mark, Join(q.path, StrCat("guaranteed.", dim)),
                 StrCat("the children's guaranteed add up to more than ",
                        FormatDim(dim, std::numeric_limits<int64_t>::max()), ", the largest amount (adding ",
                        o->second, " overflows)"));
      continue;
    }
    if (auto g = q.guaranteed.find(dim); g != q.guaranteed.end()) {
      if (total > g->second.value) {
        errors.Add(g->second.mark, Join(q.path, StrCat("guaranteed.", dim)),
                   StrCat("the children's guaranteed add up to ", FormatDim(dim, total), ", above this queue's ",
                          FormatDim(dim, g->second.value)));
      }
    } else if (auto c = ceilings.find(dim);
               c != ceilings.end() && total > c->second.value && totals.largest.at(dim) <= c->second.value) {
      // (A single child above the max has been reported at that child.)
      errors.Add(
          q.mark, q.path,
          StrCat("the children's guaranteed ", dim, " add up to ", FormatDim(dim, total), ", above the effective max ",
                 FormatDim(dim, c->second.value), " (from ", c->second.set_by, ")"));
    }
  }
}

// Checks `q` and its subtree; returns q's effective guaranteed: explicit, else
// the sum of its children's (as the queue tree derives it).
std::map<std::string, int64_t> CheckQueue(const QueueDraft& q, const Ceilings& inherited, Errors& errors) {
  CheckMaxAboveGuaranteed(q, errors);
  CheckUnderCeilings(q, q.guaranteed, "guaranteed", inherited, errors);
  CheckUnderCeilings(q, q.max, "max", inherited, errors);
  Ceilings ceilings = inherited;
  for (const auto& [dim, m] : q.max) ceilings[dim] = Ceiling{m.value, Join(q.path, "max")};
  ChildTotals totals;
  for (const QueueDraft& child : q.children) {
    for (const auto& [dim, v] : CheckQueue(child, ceilings, errors)) totals.Add(dim, v, child.path);
  }
  CheckChildrenSums(q, totals, ceilings, errors);
  std::map<std::string, int64_t> effective = std::move(totals.sum);
  for (const auto& [dim, g] : q.guaranteed) effective[dim] = g.value;
  return effective;
}

void CollectPaths(const QueueDraft& q, std::map<std::string, bool>& out) {
  if (!q.named) return;
  out[q.path] = q.children.empty();
  for (const QueueDraft& c : q.children) CollectPaths(c, out);
}

QuotaSpec BuildQuota(const QuotaDraft& draft) {
  QuotaSpec spec;
  for (const auto& [dim, a] : draft) {
    if (dim == kCpu) {
      spec.cpu_millis = a.value;
    } else if (dim == kMemory) {
      spec.memory_bytes = a.value;
    } else {
      spec.gpu_millis[dim.substr(kGpuPrefix.size())] = a.value;
    }
  }
  return spec;
}

}  // namespace

QueueDraft ParseQueueTree(const YAML::Node& node, const GpuCatalog& catalog, Errors& errors) {
  if (!node || node.IsNull() || node.IsSequence()) {
    if (node && node.IsSequence()) {
      errors.Add(node, "queues", "expected the root queue (a mapping with name, max, limits and children), got a list");
    }
    QueueDraft root;
    root.name = root.path = "root";
    return root;
  }
  TreeWalk walk{catalog, {}, 0};
  return ReadQueue(node, "", 0, walk, errors);
}

void CheckQueueTree(const QueueDraft& root, Errors& errors) { CheckQueue(root, Ceilings{}, errors); }

std::map<std::string, bool> QueuePaths(const QueueDraft& root) {
  std::map<std::string, bool> out;
  CollectPaths(root, out);
  return out;
}

AdminAcl ReadAdmins(const YAML::Node& node, const std::string& path, Errors& errors) {
  AdminAcl out;
  for (const Field& f : MapFields(node, path, {"users", "groups"}, errors)) {
    const std::string field = Join(path, f.key);
    if (f.key == "users") {
      out.users = ReadNames(f.value, field, IsPrincipalName, "a user name", errors);
    } else {
      out.groups = ReadNames(f.value, field, IsPrincipalName, "a group name", errors);
    }
  }
  return out;
}

QueueSpec BuildQueueSpec(const QueueDraft& draft) {
  QueueSpec spec;
  spec.name = draft.name;
  spec.path = draft.path;
  spec.weight = draft.weight;
  spec.guaranteed = BuildQuota(draft.guaranteed);
  spec.max = BuildQuota(draft.max);
  spec.limits = draft.limits;
  spec.submit = draft.submit;
  spec.admins = draft.admins;
  spec.admission = draft.admission;
  for (const QueueDraft& c : draft.children) spec.children.push_back(BuildQueueSpec(c));
  return spec;
}

}  // namespace drover::config_internal
