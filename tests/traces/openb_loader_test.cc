#include <catch2/catch.hpp>

#include <string>

#include "absl/strings/str_cat.h"
#include "sim/openb.h"
#include "tests/traces/trace_files.h"

namespace drover {
namespace {

const char* kPodHeader =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,"
    "scheduled_time\n";

std::string ErrorOf(const std::string& csv, bool nodes = false) {
  GpuCatalog catalog;
  REQUIRE(openb::AddGpuTypes(&catalog).ok());
  absl::Status s = nodes ? openb::ParseNodes(csv, "t.csv", &catalog).status()
                         : openb::ParsePods(csv, "t.csv", &catalog).status();
  return std::string(s.message());
}

TEST_CASE("openb_loader_reads_pod_shapes_and_gpu_spec", "[openb]") {
  GpuCatalog catalog;
  REQUIRE(openb::AddGpuTypes(&catalog).ok());
  const std::string csv = std::string(kPodHeader) +
                          "p-1,6000,12288,1,460,,LS,Running,5,100,5\n"
                          "p-2,88000,491520,8,1000,G3,BE,Pending,7,9,\n"
                          "p-3,4000,1024,0,0,,BE,Succeeded,1,2,1\n"
                          "p-4,4000,1024,1,1000,V100M32|V100M16|V100M32,LS,Failed,1,2,1\r\n";
  auto pods = openb::ParsePods(csv, "t.csv", &catalog);
  REQUIRE(pods.ok());
  REQUIRE(pods->size() == 4);
  const Pod& share = (*pods)[0];
  CHECK(share.Key() == "openb/p-1");
  CHECK(share.gpu_devices == 1);
  CHECK(share.gpu_milli_per_device == 460);
  CHECK(share.requests[Res::kGpu] == 460);
  CHECK(share.requests[Res::kCpu] == 6000);
  CHECK(share.requests[Res::kMemory] == int64_t{12288} << 20);
  CHECK(share.phase == PodPhase::kPending);
  CHECK(*share.labels.Get(openb::kPhaseLabel) == "Running");
  CHECK((*pods)[1].gpu_devices == 8);
  CHECK((*pods)[1].gpu_milli_per_device == 1000);
  CHECK(*(*pods)[1].annotations.Get(annotations::kGpuType) == "G3");
  CHECK_FALSE((*pods)[2].WantsGpu());
  // A spec with a repeated type becomes a class of the distinct types, lowest rank first.
  const std::string* spec = (*pods)[3].annotations.Get(annotations::kGpuType);
  REQUIRE(spec != nullptr);
  CHECK(*spec == "V100M16|V100M32");
  auto mask = catalog.ResolveRequest(*spec);
  REQUIRE(mask.ok());
  CHECK(*mask == ((GpuTypeMask{1} << catalog.FindType("V100M16")) | (GpuTypeMask{1} << catalog.FindType("V100M32"))));
}

TEST_CASE("openb_loader_reads_nodes_with_gpu_types", "[openb]") {
  GpuCatalog catalog;
  auto nodes = openb::ParseNodes("sn,cpu_milli,memory_mib,gpu,model\nn-0,64000,262144,2,P100\nn-1,32000,1024,0,\n",
                                 "n.csv", &catalog);
  REQUIRE(nodes.ok());
  REQUIRE(nodes->size() == 2);
  CHECK((*nodes)[0].gpu_count == 2);
  CHECK((*nodes)[0].allocatable[Res::kGpu] == 2000);
  CHECK(catalog.type((*nodes)[0].gpu_type).name == "P100");
  CHECK((*nodes)[1].gpu_type == kNoGpuType);
  CHECK(catalog.type(catalog.FindType("G3")).rank > catalog.type(catalog.FindType("T4")).rank);
}

TEST_CASE("openb_loader_names_file_and_line_of_malformed_rows", "[openb]") {
  const std::string ok_row = "p-1,6000,12288,1,460,,LS,Running,5,100,5\n";
  SECTION("wrong column count") {
    CHECK(ErrorOf(std::string(kPodHeader) + ok_row + "p-2,1,2,3\n") == "t.csv:3: 4 fields, the header has 11");
  }
  SECTION("non-numeric") {
    CHECK(ErrorOf(std::string(kPodHeader) + ok_row + ok_row.substr(0, 3) + "2,12x,1,0,0,,,,,,\n") ==
          "t.csv:3: cpu_milli \"12x\" is not an integer");
  }
  SECTION("negative") {
    CHECK(ErrorOf(std::string(kPodHeader) + "p-1,6000,-5,1,460,,LS,Running,5,100,5\n") ==
          "t.csv:2: memory_mib \"-5\" is negative");
  }
  SECTION("unknown column header") {
    CHECK(ErrorOf("name,cpu_milli,memory_mib,num_gpu,gpu_milli,colour\n").find("t.csv:1: unknown column \"colour\"") == 0);
  }
  SECTION("missing required column") {
    CHECK(ErrorOf("name,cpu_milli,memory_mib,num_gpu\n") == "t.csv:1: required column \"gpu_milli\" is missing");
  }
  SECTION("impossible GPU shape") {
    CHECK(ErrorOf(std::string(kPodHeader) + "p-1,6000,1,2,500,,LS,Running,5,100,5\n") ==
          "t.csv:2: num_gpu 2 with gpu_milli 500: only one GPU may be shared");
  }
  SECTION("unknown gpu_spec type") {
    CHECK(ErrorOf(std::string(kPodHeader) + "p-1,6000,1,1,500,H100,LS,Running,5,100,5\n") ==
          "t.csv:2: gpu_spec names unknown GPU type \"H100\"");
  }
  SECTION("repeated pod name") {
    CHECK(ErrorOf(absl::StrCat(kPodHeader, ok_row, "\n", ok_row)) == "t.csv:4: name \"p-1\" repeats line 2");
  }
  SECTION("node row with GPUs but no model") {
    CHECK(ErrorOf("sn,cpu_milli,memory_mib,gpu,model\nn-0,1,1,0,\nn-1,1,1,2,\n", true) ==
          "t.csv:3: gpu is 2 but model is empty");
  }
  SECTION("missing file") {
    GpuCatalog catalog;
    auto r = openb::LoadPods("/nonexistent/pods.csv", &catalog);
    CHECK(std::string(r.status().message()) == "/nonexistent/pods.csv: cannot open the file");
  }
}

TEST_CASE("openb_loader_reads_the_real_trace", "[openb][trace]") {
  const std::string dir = testing::OpenbCsvDir();
  if (dir.empty()) {
    WARN("openb trace not found next to the source tree; skipping");
    return;
  }
  GpuCatalog catalog;
  auto nodes = openb::LoadNodes(dir + "/openb_node_list_gpu_node.csv", &catalog);
  REQUIRE(nodes.ok());
  CHECK(nodes->size() == 1213);
  int64_t gpus = 0;
  for (const Node& n : *nodes) gpus += n.gpu_count;
  CHECK(gpus == 6212);
  auto pods = openb::LoadPods(dir + "/openb_pod_list_default.csv", &catalog);
  REQUIRE(pods.ok());
  CHECK(pods->size() == 8152);
  int cpu_only = 0, sharing = 0, multi = 0;
  for (const Pod& p : *pods) {
    cpu_only += p.WantsGpu() ? 0 : 1;
    sharing += p.gpu_devices == 1 && p.gpu_milli_per_device < 1000 ? 1 : 0;
    multi += p.gpu_devices > 1 ? 1 : 0;
  }
  CHECK(cpu_only == 1088);
  CHECK(sharing == 3078);
  CHECK(multi == 75);
}

}  // namespace
}  // namespace drover
