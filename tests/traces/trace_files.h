// Where the tests find the openb trace: $DROVER_SOURCE_DIR/../shared/traces/...
// (ctest sets DROVER_SOURCE_DIR). Empty when it is not there; tests then skip.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace drover::testing {

inline std::string OpenbCsvDir() {
  const char* src = std::getenv("DROVER_SOURCE_DIR");
  if (src == nullptr) return "";
  const std::string dir = std::string(src) + "/../shared/traces/alibaba-gpu-v2023-openb/csv";
  return std::filesystem::exists(dir + "/openb_node_list_gpu_node.csv") ? dir : "";
}

}  // namespace drover::testing
