drover_add_tests(queues_config_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/queues/config_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/queues/submit_acl_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/queues/topology_config_test.cc
  LIBS drover_queues)
