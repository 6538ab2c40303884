# webhook_bench: the admission webhook per review, pure and over HTTPS loopback, on one core.
add_executable(webhook_bench ${CMAKE_CURRENT_LIST_DIR}/webhook_bench.cc)
target_link_libraries(webhook_bench PRIVATE drover_process drover_admission CLI11::CLI11 ${DROVER_SERVER_HTTPLIB_LIBRARY}
                                            OpenSSL::SSL)
target_compile_definitions(webhook_bench PRIVATE CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT
                                                 CPPHTTPLIB_BROTLI_SUPPORT)
