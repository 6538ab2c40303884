# Queue semantics as the engine applies them (queues/README.md, "Semantics"):
# admission, borrowing, reclaim ranking, fair share over a simulated run, and a
# property test over random events.
drover_add_tests(queues_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/queues/admission_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/queues/reclaim_ranking_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/queues/fair_share_sim_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/queues/queue_property_test.cc
  LIBS drover_server drover_sim drover_placement)
