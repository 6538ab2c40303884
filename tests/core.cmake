drover_add_tests(core_tests SOURCES
  ${CMAKE_CURRENT_SOURCE_DIR}/core/quantity_test.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/core/snapshot_test.cc
  LIBS drover_core)
