# The contended replay: workload generator, variant set-ups and quick runs.
if(TARGET drover_replay_run)
  drover_add_tests(replay_tests SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/replay/workload_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/replay/run_test.cc
    LIBS drover_replay_run)
endif()
