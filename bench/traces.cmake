# fill_bench: the FGD paper's fill experiment on the openb trace (see sim/fill.h).
if(TARGET drover_traces)
  add_executable(fill_bench ${CMAKE_CURRENT_SOURCE_DIR}/fill_bench.cc)
  target_link_libraries(fill_bench PRIVATE drover_traces Threads::Threads)
  target_compile_definitions(fill_bench PRIVATE DROVER_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
