add_library(drover_placement app_counter.cc cycle.cc engine.cc listing.cc placing.cc filters.cc node_index.cc preemption.cc preemptor.cc reservation.cc reservations.cc topology_index.cc topology_check.cc topology_gang.cc pod_waiters.cc)
target_link_libraries(drover_placement PUBLIC drover_core drover_queues drover_policies)
