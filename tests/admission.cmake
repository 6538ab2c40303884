# The admission webhook's decisions (admission/): AdmissionReview requests as the API server sends them.
drover_add_tests(admission_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/admission/review_fixture.cc
  ${CMAKE_CURRENT_LIST_DIR}/admission/mutate_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/admission/validate_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/admission/bad_input_test.cc
  LIBS drover_admission simdjson::simdjson)
