# Decoding speed of the Kubernetes adapter (100,000 pods, 10,000 nodes).
add_executable(k8s_decode_bench ${CMAKE_CURRENT_LIST_DIR}/k8s_decode_bench.cc)
target_link_libraries(k8s_decode_bench PRIVATE drover_k8s)
