# Scheduler performance (figures only, never timed assertions in tests):
# queue_bench (QueueTree accounting, PendingOrder picks; 1,000 leaves, 100k pending)
# and placement_bench (Engine throughput, cycle latency, memory at 1k/5k/10k nodes).
add_executable(queue_bench ${CMAKE_CURRENT_LIST_DIR}/queue_bench.cc)
target_link_libraries(queue_bench PRIVATE drover_queues)
add_executable(placement_bench ${CMAKE_CURRENT_LIST_DIR}/placement_bench.cc)
target_link_libraries(placement_bench PRIVATE drover_placement drover_sim)
