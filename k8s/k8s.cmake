# ReadSmallFile (small_file.h): bounded reads of the files operators hand us;
# a target of its own so droverctl and server/ link it without the adapter.
add_library(drover_small_file ${CMAKE_CURRENT_LIST_DIR}/small_file.cc)
target_link_libraries(drover_small_file PUBLIC drover_core absl::status absl::statusor)

# The Kubernetes adapter: kubeconfig, HTTP client, decoders, informers, actuator,
# and leader election. Depends on core/ only.
add_library(drover_k8s
  ${CMAKE_CURRENT_LIST_DIR}/clock.cc
  ${CMAKE_CURRENT_LIST_DIR}/exec_credential.cc
  ${CMAKE_CURRENT_LIST_DIR}/kubeconfig.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/rate_limiter.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_status.cc
  ${CMAKE_CURRENT_LIST_DIR}/json_util.cc
  ${CMAKE_CURRENT_LIST_DIR}/decode.cc
  ${CMAKE_CURRENT_LIST_DIR}/decode_pod.cc
  ${CMAKE_CURRENT_LIST_DIR}/decode_constraints.cc
  ${CMAKE_CURRENT_LIST_DIR}/decode_node.cc
  ${CMAKE_CURRENT_LIST_DIR}/decode_namespace.cc
  ${CMAKE_CURRENT_LIST_DIR}/reflector.cc
  ${CMAKE_CURRENT_LIST_DIR}/informer.cc
  ${CMAKE_CURRENT_LIST_DIR}/work_queue.cc
  ${CMAKE_CURRENT_LIST_DIR}/event_recorder.cc
  ${CMAKE_CURRENT_LIST_DIR}/actuator.cc
  ${CMAKE_CURRENT_LIST_DIR}/leader.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_review.cc
)
target_link_libraries(drover_k8s
  PUBLIC drover_core drover_small_file absl::status absl::statusor absl::strings absl::str_format absl::flat_hash_map
         absl::flat_hash_set absl::synchronization absl::time absl::function_ref absl::random_random
  PRIVATE yaml-cpp simdjson::simdjson CURL::libcurl spdlog::spdlog Threads::Threads)

# simdjson's on-demand parser is compiled into these files, and without SIMD flags
# it uses its scalar fallback kernel. "westmere" (SSE4.2 + PCLMUL: any x86-64
# server CPU since 2010) is the default; "haswell" adds AVX2; "fallback" is portable.
set(DROVER_K8S_SIMD "westmere" CACHE STRING "simdjson kernel for the k8s decoders: westmere, haswell, fallback")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  if(DROVER_K8S_SIMD STREQUAL "haswell")
    target_compile_options(drover_k8s PRIVATE -msse4.2 -mpclmul -mpopcnt -mavx2 -mbmi -mbmi2 -mlzcnt)
  elseif(DROVER_K8S_SIMD STREQUAL "westmere")
    target_compile_options(drover_k8s PRIVATE -msse4.2 -mpclmul -mpopcnt)
  endif()
endif()
