drover_add_tests(sim_tests SOURCES
  ${CMAKE_CURRENT_SOURCE_DIR}/sim/sim_e2e_test.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/sim/yaml_constraints_test.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/queues/queue_tree_test.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/placement/engine_test.cc
  LIBS drover_server drover_sim drover_placement)
