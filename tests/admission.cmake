# The admission webhook's decisions (admission/): AdmissionReview requests as the API server sends them.
drover_add_tests(admission_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/admission/review_fixture.cc
  ${CMAKE_CURRENT_LIST_DIR}/admission/mutate_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/admission/validate_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/admission/bad_input_test.cc
  LIBS drover_admission simdjson::simdjson)

# The HTTPS server droverd runs the webhook on (server/webhook_server.h).
drover_add_tests(webhook_server_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/admission/review_fixture.cc
  ${CMAKE_CURRENT_LIST_DIR}/admission/webhook_server_test.cc
  LIBS drover_process simdjson::simdjson ${DROVER_SERVER_HTTPLIB_LIBRARY} OpenSSL::SSL)
target_compile_definitions(webhook_server_tests PRIVATE CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT
                                                        CPPHTTPLIB_BROTLI_SUPPORT)

# The test API server's admission chain (tests/k8s_api_server/admission.py): CEL subset, failurePolicy.
add_test(NAME fake_apiserver_admission COMMAND python3 -m unittest test_admission
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/k8s_api_server)
set_tests_properties(fake_apiserver_admission PROPERTIES LABELS "admission_tests" TIMEOUT 120)
