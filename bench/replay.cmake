# replay_bench: the talk's comparison (default scheduler, version-1 node pools,
# Drover's queues) on a contended replay of our synthetic workload (sim/replay.h).
# drover_replay (sim/: the workload and the variants) and drover_replay_run (running
# and measuring them) are shared with tests/replay.cmake.
if(TARGET drover_replay)
  add_library(drover_replay_run ${CMAKE_CURRENT_LIST_DIR}/replay_run.cc)
  target_link_libraries(drover_replay_run PUBLIC drover_replay drover_server)
  add_executable(replay_bench ${CMAKE_CURRENT_LIST_DIR}/replay_bench.cc)
  target_link_libraries(replay_bench PRIVATE drover_replay_run)
  target_compile_definitions(replay_bench PRIVATE DROVER_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
