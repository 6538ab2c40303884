#!/usr/bin/env bash
# The fingerprint check: every bind (pod, node, devices), eviction and pending
# message of three deterministic runs, listed and hashed, so a refactor can show
# that it decides exactly as before.
#
#   scripts/fingerprint.sh                                   # listings under build/fingerprint, summary on stdout
#   scripts/fingerprint.sh --check results/fingerprint/baseline.txt   # exit 1 if any hash differs
#
# Runs (built in BUILD, default build; targets placement_bench replay_bench fill_bench):
#   placement  placement_bench --one: 1,000 generated nodes, binpack, a 20,000-pod backlog, steady and full churn
#   replay     replay_bench --quick: the day scenario, every variant (the engine, preemption, gangs, reservations)
#   fill       fill_bench --quick: the openb `default` list, every policy x 10 seeds (placement policies only;
#              one digest per run, sim/fill.h)
# Listing lines are described in bench/decision_log.h. To see what changed, diff a
# listing against one produced at the baseline commit.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
out=${FINGERPRINT_OUT:-$build/fingerprint}
check=""
if [[ "${1:-}" == "--check" ]]; then check=${2:?--check needs the baseline file}; fi
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$build/bench/placement_bench" --one --nodes 1000 --policy binpack --pending 20000 --cycle 1000 --steady 20 \
  --churn 500 --full 10 --full-churn 20 --decisions "$out/placement.txt" >"$scratch/placement.log"
"$build/bench/replay_bench" --quick --out "$scratch/replay" --decisions "$out/replay.txt" >"$scratch/replay.log" 2>&1
"$build/bench/fill_bench" --quick --out "$scratch/fill" --decisions "$out/fill.txt" >"$scratch/fill.log" 2>&1

summary() {
  local name=$1 file=$2
  local binds evictions pending sha
  binds=$(grep -c ' bind ' "$file" || true)
  evictions=$(grep -c ' evict ' "$file" || true)
  pending=$(grep -c ' pending ' "$file" || true)
  sha=$(sha256sum "$file" | cut -c1-16)
  echo "$name $sha lines=$(wc -l <"$file") binds=$binds evictions=$evictions pending=$pending"
}
{
  summary placement "$out/placement.txt"
  summary replay "$out/replay.txt"
  echo "fill $(sha256sum "$out/fill.txt" | cut -c1-16) runs=$(wc -l <"$out/fill.txt")"
} | tee "$out/summary.txt"

if [[ -n "$check" ]]; then
  if diff <(grep -v '^#' "$check") "$out/summary.txt"; then
    echo "fingerprint: identical to $check"
  else
    echo "fingerprint: DIFFERS from $check (listings in $out)"
    exit 1
  fi
fi
