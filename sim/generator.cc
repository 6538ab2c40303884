#include "sim/generator.h"

#include <charconv>

#include "absl/strings/str_split.h"
#include "core/rng.h"
#include "core/strings.h"

namespace drover {
namespace {

struct NodeShape {
  const char* product;
  int gpus;
  int cpus;
  int mem_gi;
  double weight;
};

constexpr NodeShape kShapes[] = {
    {"Tesla-T4", 4, 48, 192, 0.25},       {"NVIDIA-A10G", 4, 48, 192, 0.20},
    {"NVIDIA-L4", 8, 96, 384, 0.10},      {"NVIDIA-A100-SXM4-80GB", 8, 96, 1024, 0.20},
    {"NVIDIA-H100-80GB-HBM3", 8, 192, 2048, 0.15}, {"", 0, 64, 256, 0.10},
};

Node MakeNode(int i, const NodeShape& s) {
  Node n;
  n.name = StrCat("node-", i);
  n.labels.Set("kubernetes.io/hostname", n.name);
  n.allocatable[Res::kCpu] = s.cpus * 1000LL;
  n.allocatable[Res::kMemory] = static_cast<int64_t>(s.mem_gi) << 30;
  n.allocatable[Res::kPods] = 110;
  n.allocatable[Res::kGpu] = s.gpus * 1000LL;
  n.gpu_count = s.gpus;
  if (s.gpus > 0) {
    n.gpu_product = s.product;
    n.labels.Set("nvidia.com/gpu.product", s.product);
    n.taints.push_back(Taint{"nvidia.com/gpu", "present", TaintEffect::kNoSchedule});
  }
  return n;
}

Pod BasePod(const GenSpec& spec, int i, const char* kind, Rng& rng) {
  Pod p;
  p.namespace_ = kind;
  p.name = StrCat(kind, "-", i);
  p.uid = StrCat("uid-", i);
  p.scheduler_name = spec.scheduler_name;
  if (!spec.queues.empty()) p.annotations.Set(std::string(annotations::kQueue), spec.queues[rng.Next() % spec.queues.size()]);
  p.tolerations.push_back(Toleration{"nvidia.com/gpu", Toleration::Op::kExists, "", std::nullopt});
  return p;
}

void SetRequests(Pod* p, int64_t cpu_milli, int64_t mem_gi, int64_t gpus) {
  p->requests[Res::kCpu] = cpu_milli;
  p->requests[Res::kMemory] = mem_gi << 30;
  p->requests[Res::kPods] = 1;
  p->requests[Res::kGpu] = gpus * 1000;
}

}  // namespace

absl::StatusOr<GenSpec> ParseGenSpec(const std::string& text) {
  GenSpec spec;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    int64_t v = 0;
    if (kv.size() != 2 || std::from_chars(kv[1].data(), kv[1].data() + kv[1].size(), v).ec != std::errc() || v < 0) {
      return absl::InvalidArgumentError(StrCat("--generate: \"", part, "\" is not key=non-negative-integer"));
    }
    if (kv[0] == "nodes") spec.nodes = static_cast<int>(v);
    else if (kv[0] == "pods") spec.pods = static_cast<int>(v);
    else if (kv[0] == "seed") spec.seed = static_cast<uint64_t>(v);
    else if (kv[0] == "hours") spec.span_ms = v * 3600 * 1000;
    else return absl::InvalidArgumentError(StrCat("--generate: unknown key \"", kv[0], "\" (want nodes, pods, seed, hours)"));
  }
  return spec;
}

SimInput Generate(const GenSpec& spec) {
  SimInput in;
  Rng rng(spec.seed);
  double total_w = 0;
  for (const NodeShape& s : kShapes) total_w += s.weight;
  for (int i = 0; i < spec.nodes; ++i) {
    double r = rng.Uniform() * total_w;
    const NodeShape* shape = &kShapes[0];
    for (const NodeShape& s : kShapes) {
      shape = &s;
      if ((r -= s.weight) < 0) break;
    }
    in.nodes.push_back(SimNode{MakeNode(i, *shape), 0, -1, -1});
  }
  int gang_id = 0;
  for (int i = 0; i < spec.pods;) {
    const int64_t submit = rng.Range(0, spec.span_ms);
    const double kind = rng.Uniform();
    if (kind < 0.30) {  // notebook: half a GPU or one, for hours
      Pod p = BasePod(spec, i, "notebook", rng);
      SetRequests(&p, 4000, 16, 1);
      if (rng.Uniform() < 0.5) {
        p.annotations.Set(std::string(annotations::kGpuFraction), "0.5");
        p.requests[Res::kGpu] = 500;
        p.gpu_devices = 1;
        p.gpu_milli_per_device = 500;
      } else {
        p.gpu_devices = 1;
        p.gpu_milli_per_device = 1000;
      }
      in.pods.push_back(SimPod{p, submit, rng.Range(3600, 8 * 3600) * 1000});
      ++i;
    } else if (kind < 0.70) {  // batch inference: one GPU of class a10+, minutes
      Pod p = BasePod(spec, i, "inference", rng);
      SetRequests(&p, 8000, 32, 1);
      p.gpu_devices = 1;
      p.gpu_milli_per_device = 1000;
      if (!spec.inference_gpu.empty()) p.annotations.Set(std::string(annotations::kGpuType), spec.inference_gpu);
      in.pods.push_back(SimPod{p, submit, rng.Range(300, 3600) * 1000});
      ++i;
    } else if (kind < 0.90) {  // training: 1-8 A100/H100 GPUs, sometimes a gang of 2-4 pods
      const bool gang = rng.Uniform() < 0.4;
      const int members = gang ? static_cast<int>(rng.Range(2, 4)) : 1;
      const int64_t gpus = gang ? 8 : (int64_t{1} << rng.Range(0, 3));
      const int64_t duration = rng.Range(2 * 3600, 12 * 3600) * 1000;
      const std::string gang_name = StrCat("job-", gang_id++);
      std::string queue;  // one job, one queue
      for (int m = 0; m < members && i < spec.pods; ++m, ++i) {
        Pod p = BasePod(spec, i, "training", rng);
        if (const std::string* q = p.annotations.Get(annotations::kQueue)) {
          if (queue.empty()) queue = *q;
          p.annotations.Set(std::string(annotations::kQueue), queue);
        }
        SetRequests(&p, gpus * 10000, gpus * 100, gpus);
        p.gpu_devices = static_cast<int>(gpus);
        p.gpu_milli_per_device = 1000;
        p.annotations.Set(std::string(annotations::kGpuType), rng.Uniform() < 0.5 ? "A100" : "H100");
        if (gang) {
          p.annotations.Set(std::string(annotations::kGang), gang_name);
          p.annotations.Set(std::string(annotations::kGangMinMembers), StrCat(members));
        }
        in.pods.push_back(SimPod{p, submit, duration});
      }
    } else {  // CPU pods: preprocessing
      Pod p = BasePod(spec, i, "cpu", rng);
      SetRequests(&p, rng.Range(1, 16) * 1000, rng.Range(2, 64), 0);
      in.pods.push_back(SimPod{p, submit, rng.Range(60, 3600) * 1000});
      ++i;
    }
  }
  return in;
}

}  // namespace drover
