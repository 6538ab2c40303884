# The openb trace loader, the FGD paper's "fill" experiment and SVG charts.
add_library(drover_traces openb.cc fill.cc svg.cc)
target_link_libraries(drover_traces PUBLIC drover_core drover_policies absl::str_format absl::flat_hash_map)
# The contended replay's workload and variants (replay.h), run by bench/replay_bench
# and tests/replay.cmake.
add_library(drover_replay replay.cc)
target_link_libraries(drover_replay PUBLIC drover_traces drover_sim drover_placement drover_queues_config)
