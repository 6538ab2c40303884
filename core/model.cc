#include "core/model.h"

#include <algorithm>
#include <charconv>

#include "core/strings.h"
#include "core/quantity.h"

namespace drover {

void Labels::Set(std::string key, std::string value) {
  auto it = std::lower_bound(kv_.begin(), kv_.end(), key,
                             [](const auto& kv, const std::string& k) { return kv.first < k; });
  if (it != kv_.end() && it->first == key) {
    it->second = std::move(value);
  } else {
    kv_.insert(it, {std::move(key), std::move(value)});
  }
}

const std::string* Labels::Get(std::string_view key) const {
  auto it = std::lower_bound(kv_.begin(), kv_.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  return it != kv_.end() && it->first == key ? &it->second : nullptr;
}

std::optional<TaintEffect> ParseTaintEffect(std::string_view s) {
  if (s == "NoSchedule") return TaintEffect::kNoSchedule;
  if (s == "PreferNoSchedule") return TaintEffect::kPreferNoSchedule;
  if (s == "NoExecute") return TaintEffect::kNoExecute;
  return std::nullopt;
}

std::string_view TaintEffectName(TaintEffect e) {
  switch (e) {
    case TaintEffect::kNoSchedule: return "NoSchedule";
    case TaintEffect::kPreferNoSchedule: return "PreferNoSchedule";
    case TaintEffect::kNoExecute: return "NoExecute";
  }
  return "";
}

std::string_view PodPhaseName(PodPhase p) {
  switch (p) {
    case PodPhase::kPending: return "Pending";
    case PodPhase::kRunning: return "Running";
    case PodPhase::kSucceeded: return "Succeeded";
    case PodPhase::kFailed: return "Failed";
    case PodPhase::kUnknown: return "Unknown";
  }
  return "";
}

PodPhase ParsePodPhase(std::string_view s) {
  if (s == "Pending" || s.empty()) return PodPhase::kPending;
  if (s == "Running") return PodPhase::kRunning;
  if (s == "Succeeded") return PodPhase::kSucceeded;
  if (s == "Failed") return PodPhase::kFailed;
  return PodPhase::kUnknown;
}

namespace {
void MaxInPlace(ResourceVec& a, const ResourceVec& b) {
  for (int i = 0; i < Res::kMax; ++i) a[i] = std::max(a[i], b[i]);
}
}  // namespace

ResourceVec EffectiveRequests(const std::vector<ContainerRequests>& init_containers,
                              const std::vector<ContainerRequests>& containers, const ResourceVec& overhead) {
  // Sums saturate: containers asking 2^62 each must not wrap into a request that fits anywhere.
  ResourceVec app;
  for (const ContainerRequests& c : containers) app.AddSaturating(c.requests);
  ResourceVec sidecars;  // sidecars started so far
  ResourceVec init_peak;
  for (const ContainerRequests& c : init_containers) {
    if (c.sidecar) {
      sidecars.AddSaturating(c.requests);
      MaxInPlace(init_peak, sidecars);
    } else {
      ResourceVec with = sidecars;
      MaxInPlace(init_peak, with.AddSaturating(c.requests));
    }
  }
  ResourceVec total = app;
  total.AddSaturating(sidecars);
  MaxInPlace(total, init_peak);
  total.AddSaturating(overhead);
  total[Res::kPods] = 1;
  return total;
}

absl::Status ResolveGpuShape(Pod* pod) {
  const int64_t whole_milli = pod->requests[Res::kGpu];
  int64_t frac_milli = 0;
  std::string_view source;
  if (const std::string* f = pod->annotations.Get(annotations::kGpuFraction)) {
    source = annotations::kGpuFraction;
    absl::StatusOr<int64_t> m = ParseMilli(*f);
    if (!m.ok() || *m <= 0 || *m > 1000) {
      return absl::InvalidArgumentError(StrCat("pod ", pod->Key(), ": annotation ", source, ": \"", *f,
                                                     "\" must be a fraction in (0, 1]"));
    }
    frac_milli = *m;
  } else if (const std::string* g = pod->annotations.Get(annotations::kGpuMilli)) {
    source = annotations::kGpuMilli;
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(g->data(), g->data() + g->size(), v);
    if (ec != std::errc() || ptr != g->data() + g->size() || v <= 0 || v > 1000) {
      return absl::InvalidArgumentError(StrCat("pod ", pod->Key(), ": annotation ", source, ": \"", *g,
                                                     "\" must be an integer in [1, 1000]"));
    }
    frac_milli = v;
  }
  if (frac_milli > 0) {
    if (whole_milli > 0 && whole_milli != 1000) {
      return absl::InvalidArgumentError(StrCat("pod ", pod->Key(), ": annotation ", source,
                                                     " asks for a share of one GPU but the pod requests ",
                                                     FormatAmount(Res::kGpu, whole_milli), " whole GPUs"));
    }
    pod->gpu_devices = 1;
    pod->gpu_milli_per_device = static_cast<int>(frac_milli);
    pod->requests[Res::kGpu] = frac_milli;
    return absl::OkStatus();
  }
  if (whole_milli % 1000 != 0 || whole_milli < 0) {
    return absl::InvalidArgumentError(StrCat("pod ", pod->Key(), ": ", kNvidiaGpu, " request ",
                                                   FormatAmount(Res::kGpu, whole_milli),
                                                   " is not a whole number of GPUs (use ", annotations::kGpuFraction,
                                                   " to share a GPU)"));
  }
  pod->gpu_devices = static_cast<int>(whole_milli / 1000);
  pod->gpu_milli_per_device = pod->gpu_devices > 0 ? 1000 : 0;
  return absl::OkStatus();
}

bool Tolerates(const Toleration& t, const Taint& taint) {
  if (t.effect.has_value() && *t.effect != taint.effect) return false;
  if (t.key.empty()) return t.op == Toleration::Op::kExists;  // empty key + Exists matches all
  if (t.key != taint.key) return false;
  return t.op == Toleration::Op::kExists || t.value == taint.value;
}

const Taint* FirstUntoleratedTaint(const std::vector<Taint>& taints, const std::vector<Toleration>& tolerations) {
  for (const Taint& taint : taints) {
    if (taint.effect == TaintEffect::kPreferNoSchedule) continue;
    bool ok = false;
    for (const Toleration& t : tolerations) {
      if (Tolerates(t, taint)) {
        ok = true;
        break;
      }
    }
    if (!ok) return &taint;
  }
  return nullptr;
}

bool MatchesNodeSelector(const Labels& selector, const Labels& node_labels) {
  for (const auto& [k, v] : selector.items()) {
    const std::string* nv = node_labels.Get(k);
    if (nv == nullptr || *nv != v) return false;
  }
  return true;
}

namespace {
bool ParseInt(const std::string& s, int64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}
}  // namespace

bool MatchesRequirement(const NodeSelectorRequirement& r, const std::string* value) {
  using Op = NodeSelectorRequirement::Op;
  switch (r.op) {
    case Op::kIn:
      return value != nullptr && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
    case Op::kNotIn:
      return value == nullptr || std::find(r.values.begin(), r.values.end(), *value) == r.values.end();
    case Op::kExists:
      return value != nullptr;
    case Op::kDoesNotExist:
      return value == nullptr;
    case Op::kGt:
    case Op::kLt: {
      int64_t have = 0, want = 0;
      if (value == nullptr || r.values.size() != 1 || !ParseInt(*value, &have) || !ParseInt(r.values[0], &want)) {
        return false;
      }
      return r.op == Op::kGt ? have > want : have < want;
    }
  }
  return false;
}

bool MatchesRequiredAffinity(const std::vector<NodeSelectorTerm>& terms, const Node& node) {
  if (terms.empty()) return true;
  for (const NodeSelectorTerm& term : terms) {
    // A term with no requirements matches nothing (Kubernetes semantics).
    if (term.match_expressions.empty() && term.match_fields.empty()) continue;
    bool all = true;
    for (const NodeSelectorRequirement& r : term.match_expressions) {
      if (!MatchesRequirement(r, node.labels.Get(r.key))) {
        all = false;
        break;
      }
    }
    for (const NodeSelectorRequirement& r : term.match_fields) {
      if (!all) break;
      const std::string* v = r.key == "metadata.name" ? &node.name : nullptr;
      if (!MatchesRequirement(r, v)) all = false;
    }
    if (all) return true;
  }
  return false;
}

}  // namespace drover
