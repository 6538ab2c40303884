# Kubernetes adapter tests. The integration tests start
# tests/k8s_api_server/fake_apiserver.py (python3, standard library only).
drover_add_tests(k8s_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/k8s/kubeconfig_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/small_file_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/decode_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/decode_constraints_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/rate_limiter_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/fake_apiserver.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/http_client_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/informer_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/actuator_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/leader_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/k8s/token_review_test.cc
  LIBS drover_k8s simdjson::simdjson)
target_compile_definitions(k8s_tests PRIVATE DROVER_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}")

# The test API server's apps/v1 ControllerRevisions (droverd's mirrored configuration revisions).
add_test(NAME fake_apiserver_controller_revisions COMMAND python3 -m unittest test_controller_revisions
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/k8s_api_server)
set_tests_properties(fake_apiserver_controller_revisions PROPERTIES LABELS "k8s_tests" TIMEOUT 120)

# The test API server's TokenReview (tests/k8s_api_server/tokenreview.py).
add_test(NAME fake_apiserver_tokenreview COMMAND python3 -m unittest test_tokenreview
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/k8s_api_server)
set_tests_properties(fake_apiserver_tokenreview PROPERTIES LABELS "k8s_tests" TIMEOUT 60)

# The test API server's Namespaces as droverd's Namespace informer reads them.
add_test(NAME fake_apiserver_namespaces COMMAND python3 -m unittest test_namespaces
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/k8s_api_server)
set_tests_properties(fake_apiserver_namespaces PROPERTIES LABELS "k8s_tests" TIMEOUT 60)
