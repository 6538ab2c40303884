# store_bench: what the store costs droverd (apply latency local and mirrored, usage
# sampling, a year of usage, timelines). The mirrored apply runs the Python test API
# server (tests/k8s_api_server) through the tests' FakeApiServer helper, compiled in
# here rather than through drover_k8s_e2e_harness, which would also build droverd.
find_package(CLI11 REQUIRED)
add_executable(store_bench ${CMAKE_CURRENT_LIST_DIR}/store_bench.cc ${CMAKE_CURRENT_LIST_DIR}/store_bench_apply.cc
               ${CMAKE_CURRENT_LIST_DIR}/store_bench_year.cc ${PROJECT_SOURCE_DIR}/tests/k8s/fake_apiserver.cc)
target_link_libraries(store_bench PRIVATE drover_process drover_server drover_k8s CLI11::CLI11 spdlog::spdlog)
target_compile_definitions(store_bench PRIVATE DROVER_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}")
