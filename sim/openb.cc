#include "sim/openb.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"

namespace drover::openb {
namespace {

// Debian's Abseil has its own string_view; CSV text is handled as absl::string_view.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// One data row of a CSV file: its 1-based line number and its fields.
struct Row {
  int line = 0;
  std::vector<absl::string_view> fields;
};

// A CSV file split into rows, with the column index of each known column name.
struct Table {
  absl::string_view source;
  std::vector<int> column;  // per known column: index in the row, or -1
  std::vector<Row> rows;

  absl::string_view Get(const Row& r, int known) const {
    return column[known] < 0 ? absl::string_view() : r.fields[column[known]];
  }
  absl::Status Error(int line, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(source, ":", line, ": ", what));
  }
};

absl::string_view StripCr(absl::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

// Splits `csv` (first line = header). Every header name must be in `known`; every
// name in `required` (indexes into `known`) must be present.
absl::StatusOr<Table> Split(absl::string_view csv, absl::string_view source, const std::vector<absl::string_view>& known,
                            const std::vector<int>& required) {
  Table t;
  t.source = source;
  t.column.assign(known.size(), -1);
  std::vector<absl::string_view> lines = absl::StrSplit(csv, '\n');
  if (lines.empty() || StripCr(lines[0]).empty()) return t.Error(1, "the header line is missing");
  std::vector<absl::string_view> header = absl::StrSplit(StripCr(lines[0]), ',');
  for (size_t i = 0; i < header.size(); ++i) {
    auto it = std::find(known.begin(), known.end(), header[i]);
    if (it == known.end()) {
      return t.Error(1, absl::StrCat("unknown column \"", header[i], "\" (known: ", absl::StrJoin(known, ","), ")"));
    }
    int& slot = t.column[it - known.begin()];
    if (slot >= 0) return t.Error(1, absl::StrCat("column \"", header[i], "\" appears twice"));
    slot = static_cast<int>(i);
  }
  for (int r : required) {
    if (t.column[r] < 0) return t.Error(1, absl::StrCat("required column \"", known[r], "\" is missing"));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = StripCr(lines[i]);
    if (line.empty()) continue;
    Row row{static_cast<int>(i + 1), absl::StrSplit(line, ',')};
    if (row.fields.size() != header.size()) {
      return t.Error(row.line, absl::StrCat(row.fields.size(), " fields, the header has ", header.size()));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

// A non-negative integer field. `allow_empty` returns 0 for "".
absl::StatusOr<int64_t> ParseCount(const Table& t, const Row& row, int known, absl::string_view name,
                                   bool allow_empty = false) {
  absl::string_view text = t.Get(row, known);
  if (text.empty()) {
    if (allow_empty) return 0;
    return t.Error(row.line, absl::StrCat(name, " is empty"));
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return t.Error(row.line, absl::StrCat(name, " \"", text, "\" is not an integer"));
  }
  if (v < 0) return t.Error(row.line, absl::StrCat(name, " \"", text, "\" is negative"));
  return v;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the file"));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

enum NodeColumn { kSn, kNodeCpu, kNodeMemory, kGpu, kModel };

absl::StatusOr<Node> NodeFromRow(const Table& t, const Row& row, GpuCatalog* catalog) {
  Node n;
  n.name = std::string(t.Get(row, kSn));
  if (n.name.empty()) return t.Error(row.line, "sn is empty");
  ASSIGN_OR_RETURN(int64_t cpu, ParseCount(t, row, kNodeCpu, "cpu_milli"));
  ASSIGN_OR_RETURN(int64_t mem, ParseCount(t, row, kNodeMemory, "memory_mib"));
  ASSIGN_OR_RETURN(int64_t gpus, ParseCount(t, row, kGpu, "gpu"));
  const absl::string_view model = t.Get(row, kModel);
  if (gpus > 0 && model.empty()) return t.Error(row.line, absl::StrCat("gpu is ", gpus, " but model is empty"));
  if (gpus > 1024) return t.Error(row.line, absl::StrCat("gpu \"", gpus, "\" is implausibly large"));
  n.allocatable[Res::kCpu] = cpu;
  n.allocatable[Res::kMemory] = mem << 20;
  n.allocatable[Res::kPods] = kPodsPerNode;
  n.allocatable[Res::kGpu] = gpus * 1000;
  n.gpu_count = static_cast<int>(gpus);
  if (!model.empty()) {
    n.gpu_product = std::string(model);
    n.labels.Set(std::string(kGpuModelLabel), n.gpu_product);
    n.gpu_type = catalog->FindType(n.gpu_product);
    if (n.gpu_type == kNoGpuType) n.gpu_type = catalog->TypeForProduct(n.gpu_product);
  }
  return n;
}

enum PodColumn { kName, kPodCpu, kPodMemory, kNumGpu, kGpuMilli, kGpuSpec, kQos, kPhase, kCreation, kDeletion, kScheduled };

// The drover.io/gpu-type value for a gpu_spec: a type name, or a class of several.
absl::StatusOr<std::string> GpuTypeRequest(const Table& t, const Row& row, GpuCatalog* catalog) {
  std::vector<std::string> names;
  GpuTypeMask mask = 0;
  for (absl::string_view part : absl::StrSplit(t.Get(row, kGpuSpec), '|')) {
    const GpuTypeId id = catalog->FindType(std::string_view(part.data(), part.size()));
    if (id == kNoGpuType) return t.Error(row.line, absl::StrCat("gpu_spec names unknown GPU type \"", part, "\""));
    mask |= GpuTypeMask{1} << id;
  }
  for (GpuTypeId id : catalog->ByRank(mask)) names.push_back(catalog->type(id).name);
  std::string request = absl::StrJoin(names, "|");
  if (names.size() > 1 && catalog->FindClass(request) == nullptr) {
    RETURN_IF_ERROR(catalog->AddClass(request, names, ""));
  }
  return request;
}

absl::Status SetGpuShape(const Table& t, const Row& row, Pod* pod) {
  ASSIGN_OR_RETURN(int64_t k, ParseCount(t, row, kNumGpu, "num_gpu"));
  ASSIGN_OR_RETURN(int64_t m, ParseCount(t, row, kGpuMilli, "gpu_milli"));
  if (k == 0 && m != 0) return t.Error(row.line, absl::StrCat("gpu_milli is ", m, " but num_gpu is 0"));
  if (k > 0 && (m == 0 || m > 1000)) {
    return t.Error(row.line, absl::StrCat("gpu_milli \"", m, "\" must be in 1..1000 when num_gpu is ", k));
  }
  if (k > 1 && m != 1000) {
    return t.Error(row.line, absl::StrCat("num_gpu ", k, " with gpu_milli ", m, ": only one GPU may be shared"));
  }
  if (k > 1024) return t.Error(row.line, absl::StrCat("num_gpu \"", k, "\" is implausibly large"));
  pod->gpu_devices = static_cast<int>(k);
  pod->gpu_milli_per_device = static_cast<int>(m);
  pod->requests[Res::kGpu] = k * m;
  if (k == 1 && m < 1000) pod->annotations.Set(std::string(annotations::kGpuMilli), std::to_string(m));
  return absl::OkStatus();
}

absl::StatusOr<Pod> PodFromRow(const Table& t, const Row& row, GpuCatalog* catalog) {
  Pod p;
  p.namespace_ = std::string(kNamespace);
  p.name = std::string(t.Get(row, kName));
  if (p.name.empty()) return t.Error(row.line, "name is empty");
  p.uid = p.name;
  ASSIGN_OR_RETURN(p.requests[Res::kCpu], ParseCount(t, row, kPodCpu, "cpu_milli"));
  ASSIGN_OR_RETURN(int64_t mem, ParseCount(t, row, kPodMemory, "memory_mib"));
  p.requests[Res::kMemory] = mem << 20;
  p.requests[Res::kPods] = 1;
  RETURN_IF_ERROR(SetGpuShape(t, row, &p));
  if (!t.Get(row, kGpuSpec).empty() && p.gpu_devices > 0) {
    ASSIGN_OR_RETURN(std::string request, GpuTypeRequest(t, row, catalog));
    p.annotations.Set(std::string(annotations::kGpuType), std::move(request));
  }
  if (!t.Get(row, kQos).empty()) p.labels.Set(std::string(kQosLabel), std::string(t.Get(row, kQos)));
  if (!t.Get(row, kPhase).empty()) p.labels.Set(std::string(kPhaseLabel), std::string(t.Get(row, kPhase)));
  ASSIGN_OR_RETURN(int64_t created, ParseCount(t, row, kCreation, "creation_time", true));
  RETURN_IF_ERROR(ParseCount(t, row, kDeletion, "deletion_time", true).status());
  RETURN_IF_ERROR(ParseCount(t, row, kScheduled, "scheduled_time", true).status());
  p.creation_ms = created * 1000;
  DecodePodIntent(&p);  // its GPU type request, as the engine will read it
  return p;
}

}  // namespace

absl::Status AddGpuTypes(GpuCatalog* catalog) {
  struct Model {
    const char* name;
    int rank;
  };
  for (const Model& m : {Model{"P100", 5}, Model{"T4", 10}, Model{"V100M16", 20}, Model{"V100M32", 21},
                         Model{"A10", 30}, Model{"G2", 40}, Model{"G3", 45}}) {
    if (catalog->FindType(m.name) != kNoGpuType) continue;
    RETURN_IF_ERROR(catalog->AddType(GpuType{m.name, m.rank, {m.name}, true}));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Node>> ParseNodes(std::string_view csv, std::string_view source, GpuCatalog* catalog) {
  RETURN_IF_ERROR(AddGpuTypes(catalog));
  ASSIGN_OR_RETURN(Table t, Split(Av(csv), Av(source), {"sn", "cpu_milli", "memory_mib", "gpu", "model"},
                                  {kSn, kNodeCpu, kNodeMemory, kGpu}));
  std::vector<Node> nodes;
  nodes.reserve(t.rows.size());
  for (const Row& row : t.rows) {
    ASSIGN_OR_RETURN(Node n, NodeFromRow(t, row, catalog));
    nodes.push_back(std::move(n));
  }
  return nodes;
}

absl::StatusOr<std::vector<Pod>> ParsePods(std::string_view csv, std::string_view source, GpuCatalog* catalog) {
  ASSIGN_OR_RETURN(Table t, Split(Av(csv), Av(source),
                                  {"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos",
                                   "pod_phase", "creation_time", "deletion_time", "scheduled_time"},
                                  {kName, kPodCpu, kPodMemory, kNumGpu, kGpuMilli}));
  std::vector<Pod> pods;
  pods.reserve(t.rows.size());
  absl::flat_hash_map<std::string, int> line_of;  // pod name -> first line
  for (const Row& row : t.rows) {
    ASSIGN_OR_RETURN(Pod p, PodFromRow(t, row, catalog));
    auto [it, inserted] = line_of.emplace(p.name, row.line);
    if (!inserted) return t.Error(row.line, absl::StrCat("name \"", p.name, "\" repeats line ", it->second));
    pods.push_back(std::move(p));
  }
  return pods;
}

absl::StatusOr<std::vector<Node>> LoadNodes(const std::string& path, GpuCatalog* catalog) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseNodes(text, path, catalog);
}

absl::StatusOr<std::vector<Pod>> LoadPods(const std::string& path, GpuCatalog* catalog) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParsePods(text, path, catalog);
}

}  // namespace drover::openb
