add_library(drover_sim simulator.cc k8s_yaml.cc yaml_constraints.cc generator.cc report.cc duration.cc)
target_link_libraries(drover_sim PUBLIC drover_core drover_placement yaml-cpp)
