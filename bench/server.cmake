# status_bench: the cost of publishing the loop's status (server/status.h).
find_package(CLI11 REQUIRED)
add_executable(status_bench ${CMAKE_CURRENT_LIST_DIR}/status_bench.cc)
target_link_libraries(status_bench PRIVATE drover_process CLI11::CLI11)
# soak_bench: the engine's memory over a simulated week of steady churn.
add_executable(soak_bench ${CMAKE_CURRENT_LIST_DIR}/soak_bench.cc)
target_link_libraries(soak_bench PRIVATE drover_server CLI11::CLI11)
# admin_bench: the loop's cycle time while gRPC clients call the admin API.
add_executable(admin_bench ${CMAKE_CURRENT_LIST_DIR}/admin_bench.cc ${CMAKE_CURRENT_LIST_DIR}/admin_bench_clients.cc)
target_link_libraries(admin_bench PRIVATE drover_process drover_admin_proto CLI11::CLI11 gRPC::grpc++)
