#!/usr/bin/env bash
# The whole test suite: set-up, build, ctest.
#   DROVER_SANITIZE=1  the same tests under ASan+UBSan (build-asan/)
#   DROVER_TSAN=1      the multi-threaded tests (server, k8s, end-to-end) under ThreadSanitizer (build-tsan/)
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"  # as scripts/build.sh: cache hits across clones
scripts/setup.sh --test
labels=""
if [ "${DROVER_SANITIZE:-0}" = 1 ]; then
  scripts/build.sh build-asan -DDROVER_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  cd build-asan
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$PWD/../tests/lsan.supp print_suppressions=0"
elif [ "${DROVER_TSAN:-0}" = 1 ]; then
  threaded=(server_tests k8s_tests k8s_e2e_tests droverd)
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDROVER_TSAN=ON >/dev/null
  cmake --build build-tsan -j "$(nproc)" --target "${threaded[@]}"
  cd build-tsan
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/../tests/tsan.supp"
  # Reports inside Debian's uninstrumented gRPC, Abseil, curl and OpenSSL are suppressed in tests/tsan.supp, each entry saying why.
  labels="server_tests|k8s_tests|k8s_e2e_tests"
else
  scripts/build.sh build
  cd build
fi
if [ -n "$labels" ]; then
  ctest --output-on-failure -j "$(nproc)" --timeout 600 -L "$labels"
else
  ctest --output-on-failure -j "$(nproc)" --timeout 600
fi
