# The contended replay: workload generator, variant set-ups and quick runs.
if(TARGET drover_replay_run)
  drover_add_tests(replay_tests SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/replay/workload_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/replay/run_test.cc
    LIBS drover_replay_run)
endif()
# Determinism across processes (hash-map iteration order differs per process).
if(TARGET replay_bench AND EXISTS ${PROJECT_SOURCE_DIR}/../shared/traces)
  add_test(NAME replay_same_seed_same_result_across_processes
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/replay/same_seed_same_result.sh $<TARGET_FILE:replay_bench>
                   ${CMAKE_CURRENT_BINARY_DIR}/replay_determinism)
  set_tests_properties(replay_same_seed_same_result_across_processes PROPERTIES TIMEOUT 900)
endif()
