# server/ tests: the mailbox, the HTTP server, live configuration, the
# published status, droverd's flags and the process object on the simulator;
# core/sync.h's primitives (here, not in core_tests, so that they run under TSan).
drover_add_tests(server_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/server/mailbox_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/server/http_server_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/server/live_config_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/server/sync_test.cc
  LIBS drover_process)
target_sources(server_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/server/status_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/server/metrics_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/server/process_sim_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/server/flags_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/server/configmap_source_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/server/store_integration_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/server/config_mirror_test.cc)

# droverctl validate reads standard input with -f -, and fails on a bad document.
add_test(NAME droverctl_validate_reads_standard_input
         COMMAND sh -c "$<TARGET_FILE:droverctl> validate -f - < ${PROJECT_SOURCE_DIR}/examples/queues.yaml | grep -q '<stdin>: valid' && printf 'queues: [' | $<TARGET_FILE:droverctl> validate -f - 2>&1 | grep -q '<stdin>' && ! printf 'queues: [' | $<TARGET_FILE:droverctl> validate -f -")
set_tests_properties(droverctl_validate_reads_standard_input PROPERTIES LABELS droverctl)
