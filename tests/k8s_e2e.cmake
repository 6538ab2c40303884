# End-to-end tests of droverd against the fake API server
# (tests/k8s_api_server/fake_apiserver.py, python3): droverd runs as a subprocess,
# the tests check what the API server saw. The harness is a library so that
# bench/k8s_e2e_bench.cc can drive the same runs.
add_library(drover_k8s_e2e_harness STATIC
  ${CMAKE_CURRENT_LIST_DIR}/k8s/fake_apiserver.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/droverd_harness.cc)
target_link_libraries(drover_k8s_e2e_harness PUBLIC drover_k8s PRIVATE simdjson::simdjson)
target_compile_definitions(drover_k8s_e2e_harness PRIVATE
  DROVER_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}"
  DROVERD_BINARY="$<TARGET_FILE:droverd>")
add_dependencies(drover_k8s_e2e_harness droverd)

drover_add_tests(k8s_e2e_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/k8s/droverd_e2e_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/droverd_live_config_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/droverd_webhook_e2e_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/droverd_namespaces_e2e_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/revision_mirror_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/webhook_cert_keeper_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/droverd_admin_e2e_test.cc
  LIBS drover_k8s_e2e_harness drover_process drover_admin_proto gRPC::grpc++ simdjson::simdjson)
add_dependencies(k8s_e2e_tests droverd)
