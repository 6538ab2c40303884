# The admin API end to end: a real gRPC server on 127.0.0.1 in front of the
# simulator, every RPC, authorization refusals, the compare-and-set conflict,
# and droverctl run as a subprocess.
drover_add_tests(admin_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/admin/admin_e2e_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/admin/workloads_e2e_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/admin/serve_speed_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/admin/text_diff_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/admin/authn_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/admin/admin_tls_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/admin/rate_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/admin/read_gate_test.cc
                 LIBS drover_process drover_admin_proto gRPC::grpc++)
target_compile_definitions(admin_tests PRIVATE DROVERCTL_PATH="$<TARGET_FILE:droverctl>")
add_dependencies(admin_tests droverctl)
