# End-to-end binds per second of droverd against the fake API server (python3),
# through the e2e test harness (drover_k8s_e2e_harness, tests/k8s_e2e.cmake).
add_executable(k8s_e2e_bench ${CMAKE_CURRENT_LIST_DIR}/k8s_e2e_bench.cc)
target_link_libraries(k8s_e2e_bench PRIVATE drover_k8s_e2e_harness)
add_dependencies(k8s_e2e_bench droverd)
