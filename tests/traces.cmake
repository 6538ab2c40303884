# The openb trace loader, the fill experiment and the scoring policies.
if(TARGET drover_traces)
  drover_add_tests(traces_tests SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/traces/openb_loader_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/traces/fill_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/traces/policies_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/traces/frag_model_test.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/traces/gpu_frag_test.cc
    LIBS drover_traces drover_policies)
endif()
