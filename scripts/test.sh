#!/usr/bin/env bash
# The whole test suite: set-up, build, ctest. Set DROVER_SANITIZE=1 for ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "${DROVER_SANITIZE:-0}" = 1 ]; then
  scripts/build.sh build-asan -DDROVER_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  cd build-asan
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  scripts/build.sh build
  cd build
fi
ctest --output-on-failure -j "$(nproc)" --timeout 600
