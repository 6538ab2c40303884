#!/usr/bin/env bash
# The store's crash test at full size: SIGKILLs a child that streams applies,
# rollbacks and usage writes into a RocksStore, KILLS times (default 60), and
# checks the store after each kill (tests/store/crash_test.cc). Prints the
# test's summary line and exits non-zero on any failed check.
#   scripts/store_crash.sh [KILLS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-60}"
build="${2:-build}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
nice cmake --build "$build" -j2 --target store_crash_tests store_crash_child >/dev/null
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
start=$(date +%s)
if DROVER_CRASH_KILLS="$kills" "$build/tests/store_crash_tests" store_survives_sigkill_during_applies_rollbacks_and_usage_writes >"$log" 2>&1; then
  result=passed
else
  result=FAILED
fi
grep -E '^store crash test:' "$log" || true
echo "store_crash.sh: $result ($kills kills, $(( $(date +%s) - start )) s)"
if [ "$result" != passed ]; then tail -40 "$log"; exit 1; fi
