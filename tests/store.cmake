# store/ tests: one contract suite run against MemoryStore and RocksStore.
drover_add_tests(store_tests SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/store/revisions_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/store/history_test.cc
  LIBS drover_store)

# Crash test: a child that streams writes, SIGKILLed at random points
# (DROVER_CRASH_KILLS, default 10; scripts/store_crash.sh runs 50+).
add_executable(store_crash_child ${CMAKE_CURRENT_LIST_DIR}/store/crash_child.cc)
target_link_libraries(store_crash_child PRIVATE drover_store)
drover_add_tests(store_crash_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/store/crash_test.cc LIBS drover_store)
target_compile_definitions(store_crash_tests PRIVATE DROVER_CRASH_CHILD="$<TARGET_FILE:store_crash_child>")
add_dependencies(store_crash_tests store_crash_child)
