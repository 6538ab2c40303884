// Small trace tables for the replay tests, and where the real traces are.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_format.h"
#include "sim/replay.h"

namespace drover::replay::testing {

// 8 G2 nodes (8 GPUs), 6 T4 nodes (2 GPUs), 4 P100 nodes (1 GPU): 84 GPUs. Pod rows
// of every shape; durations 100 s (below the floor), 3000 s, 7200 s, 200000 s (above
// the cap) and two rows without scheduled_time (they take the median, 3000 s).
inline TraceText SmallTables() {
  TraceText t;
  t.nodes_csv = "sn,cpu_milli,memory_mib,gpu,model\n";
  int i = 0;
  for (int k = 0; k < 8; ++k) t.nodes_csv += absl::StrFormat("n-%02d,96000,786432,8,G2\n", i++);
  for (int k = 0; k < 6; ++k) t.nodes_csv += absl::StrFormat("n-%02d,104000,393216,2,T4\n", i++);
  for (int k = 0; k < 4; ++k) t.nodes_csv += absl::StrFormat("n-%02d,32000,131072,1,P100\n", i++);
  t.nodes_csv += "n-cpu,64000,262144,0,\n";  // CPU-only: left out of the replay
  t.pods_csv =
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
      "p-00,4000,8192,1,500,,LS,Running,0,100,0\n"
      "p-01,8000,16384,1,1000,,LS,Running,0,3000,0\n"
      "p-02,16000,32768,2,1000,,BE,Running,0,7200,0\n"
      "p-03,32000,65536,4,1000,,BE,Running,0,200000,0\n"
      "p-04,64000,131072,8,1000,,BE,Pending,0,50,\n"
      "p-05,2000,4096,0,0,,BE,Pending,0,9,\n"
      "p-06,6000,12288,1,250,,LS,Running,10,3010,10\n"
      "p-07,12000,24576,1,1000,,LS,Running,10,7210,10\n";
  t.helios_csv =
      "date,vcAa,vcBb,vcCc,vcDd,total\n"
      "2020-09-27,64,32,8,16,120\n"
      "2020-09-28,64,32,0,16,112\n";
  return t;
}

inline ReplaySpec SmallSpec(uint64_t seed) {
  ReplaySpec s;
  s.node_stride = 1;
  s.seed = seed;
  s.peak_hours = 2;
  s.offpeak_hours = 2;
  return s;
}

// The real traces, or "" (tests that need them then skip).
inline ReplaySpec TraceSpec() {
  ReplaySpec s;
  const char* src = std::getenv("DROVER_SOURCE_DIR");
  if (src == nullptr) return s;
  const std::string traces = std::string(src) + "/../shared/traces";
  if (!std::filesystem::exists(traces + "/alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv") ||
      !std::filesystem::exists(traces + "/helios-venus-vc-gpus/cluster_gpu_number.csv")) {
    return s;
  }
  s.openb_dir = traces + "/alibaba-gpu-v2023-openb/csv";
  s.helios_csv = traces + "/helios-venus-vc-gpus/cluster_gpu_number.csv";
  return s;
}

}  // namespace drover::replay::testing
