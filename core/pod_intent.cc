// DecodePodIntent and DecodePod (core/model.h): what a pod asks of Drover, read
// from its annotations once when it arrives.
#include <algorithm>
#include <charconv>

#include "core/model.h"
#include "core/strings.h"

namespace drover {
namespace {

// The first problem wins: a pod is rejected for one reason.
void Invalid(Pod* pod, std::string_view annotation, const std::string& value, std::string_view what) {
  if (!pod->intent.invalid.empty()) return;
  pod->intent.invalid = StrCat("pod ", pod->Key(), ": annotation ", annotation, ": \"", value, "\" ", what);
}

// A whole decimal number, nothing around it.
bool ParseWhole(const std::string& s, int* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// A topology level annotation: its value must be a level name.
void ReadLevel(Pod* pod, std::string_view annotation, std::string* out) {
  const std::string* v = pod->annotations.Get(annotation);
  if (v == nullptr) return;
  if (!IsTopologyLevelName(*v)) {
    Invalid(pod, annotation, CutForMessage(*v), "is not a topology level name");
    return;
  }
  *out = *v;
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

bool IsTopologyLevelName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsLowerAlnum(c) || c == '-' || c == '_'; });
}

void DecodePodIntent(Pod* pod) {
  PodIntent& in = pod->intent;
  std::string shape_error = std::move(in.shape_error);
  in = PodIntent{};
  in.invalid = shape_error;
  in.shape_error = std::move(shape_error);
  const Labels& a = pod->annotations;
  if (const std::string* q = a.Get(annotations::kQueue)) {
    if (q->empty()) Invalid(pod, annotations::kQueue, *q, "is not a queue path");
    in.queue = *q;
  }
  if (const std::string* t = a.Get(annotations::kTier)) {
    int tier = kTierUnset;
    if (ParseWhole(*t, &tier) && tier >= 0 && tier <= 2) {
      in.tier = tier;
    } else {
      Invalid(pod, annotations::kTier, *t, "must be 0, 1 or 2");
    }
  }
  if (const std::string* g = a.Get(annotations::kGpuType)) in.gpu_type = *g;
  if (const std::string* g = a.Get(annotations::kGang)) in.gang = *g;
  if (const std::string* m = a.Get(annotations::kGangMinMembers)) {
    int n = 0;
    if (ParseWhole(*m, &n) && n >= 1) {
      in.gang_min_members = in.gang.empty() ? 1 : n;
    } else {
      Invalid(pod, annotations::kGangMinMembers, *m, "is not a positive integer");
    }
  }
  ReadLevel(pod, annotations::kTopologyRequired, &in.topology_required);
  ReadLevel(pod, annotations::kTopologyPreferred, &in.topology_preferred);
  if (const std::string* g = a.Get(annotations::kSubmitGrant)) {
    const size_t colon = g->find(':');
    const std::string kind = colon == std::string::npos ? "" : g->substr(0, colon);
    if ((kind == "user" || kind == "group") && colon + 1 < g->size() && g->size() <= 300) {
      in.submit_grant_kind = kind;
      in.submit_grant_name = g->substr(colon + 1);
    } else {
      Invalid(pod, annotations::kSubmitGrant, CutForMessage(*g), "is not user:NAME or group:NAME");
    }
  }
  FinishPodConstraints(pod);
  if (in.invalid.empty() && !pod->constraints.error.empty()) {
    in.invalid = StrCat("pod ", pod->Key(), ": ", pod->constraints.error);
  }
}

absl::Status DecodePod(Pod* pod) {
  pod->intent.shape_error.clear();
  if (absl::Status s = ResolveGpuShape(pod); !s.ok()) {
    // Still a pod the engine can explain itself to; it holds its whole GPUs meanwhile.
    const int64_t whole = std::max<int64_t>(0, pod->requests[Res::kGpu]);
    pod->gpu_devices = static_cast<int>((whole + 999) / 1000);
    pod->gpu_milli_per_device = pod->gpu_devices > 0 ? 1000 : 0;
    pod->requests[Res::kGpu] = int64_t{pod->gpu_devices} * 1000;
    pod->intent.shape_error = std::string(s.message());
  }
  DecodePodIntent(pod);
  if (pod->intent.invalid.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(pod->intent.invalid);
}

}  // namespace drover
