# store_bench: what the store costs droverd (apply latency, usage sampling, a year of usage, timelines).
find_package(CLI11 REQUIRED)
add_executable(store_bench ${CMAKE_CURRENT_LIST_DIR}/store_bench.cc)
target_link_libraries(store_bench PRIVATE drover_server CLI11::CLI11)
