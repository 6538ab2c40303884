#!/bin/sh
# Determinism across processes: two runs of the quick replay with the same seed
# must give the same figures. In one process this holds trivially; across two,
# any decision that follows a hash map's iteration order (per-process seeded in
# Abseil) shows up as a difference. The wall-time column is dropped.
# Usage: same_seed_same_result.sh <replay_bench> <work dir>
set -eu
bench="$1"
work="$2"
rm -rf "$work"
mkdir -p "$work"
for run in 1 2; do
  "$bench" --quick --out "$work/run$run" >/dev/null 2>"$work/run$run.log" || { cat "$work/run$run.log"; exit 1; }
  # Every column but the last (wall_s).
  sed 's/,[^,]*$//' "$work/run$run/replay.csv" >"$work/run$run.csv"
done
if ! cmp -s "$work/run1.csv" "$work/run2.csv"; then
  echo "replay figures differ between two runs with the same seed:"
  diff "$work/run1.csv" "$work/run2.csv" || true
  exit 1
fi
if ! cmp -s "$work/run1/timeseries.csv" "$work/run2/timeseries.csv"; then
  echo "replay time series differ between two runs with the same seed"
  exit 1
fi
echo "same seed, same figures: $(($(wc -l <"$work/run1.csv") - 1)) variants"
