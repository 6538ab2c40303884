# Quota as code: parsing and validating the queues YAML document (config.h).
add_library(drover_queues_config
  ${CMAKE_CURRENT_LIST_DIR}/config.cc
  ${CMAKE_CURRENT_LIST_DIR}/config_validate.cc
  ${CMAKE_CURRENT_LIST_DIR}/config_admission.cc
  ${CMAKE_CURRENT_LIST_DIR}/config_topology.cc
)
target_link_libraries(drover_queues_config PUBLIC drover_core PRIVATE yaml-cpp)
