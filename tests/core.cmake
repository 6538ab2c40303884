drover_add_tests(core_tests SOURCES
  ${CMAKE_CURRENT_SOURCE_DIR}/core/quantity_test.cc
  LIBS drover_core)
