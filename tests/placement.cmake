# Placement engine: filters, scoring, gangs, reservations, preemption and a
# randomized property test over the engine's invariants.
drover_add_tests(placement_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/placement/filters_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/scoring_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/gang_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/reservation_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/reservations_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/app_limits_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/app_counter_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/intent_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/pending_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/memory_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/preemption_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/preemptor_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/nomination_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/property_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/topology_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/topology_namespaces_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/topology_score_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/attempt_observer_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/pod_waiters_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/topology_property_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/topology_gang_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/placement/topology_gang_property_test.cc
  LIBS drover_placement)
