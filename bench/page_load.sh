#!/usr/bin/env bash
# The web page's load time with ~1,000 queues: droverd --serve on a generated cluster
# with a 1,025-queue document (32 orgs x 31 teams, a max on 6 GPU types each), then,
# 3 times each, the time to serve the page's JSON (curl) and headless Chromium's time
# to load and draw the page (minus its time for an empty page). Prints medians.
#
#   bench/page_load.sh [BUILD_DIR]       # needs chromium (scripts/setup.sh --test)
set -euo pipefail
BUILD=${1:-build}
DROVERD=$BUILD/server/droverd
command -v chromium >/dev/null || { echo "page_load: chromium is not installed"; exit 1; }
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$work/queues.yaml" <<'PY'
import sys
out = ["placement: {default_queue: root.o0.t0}", "queues:", "  children:"]
for o in range(32):
    out += [f"    - name: o{o}", "      children:"]
    for t in range(31):
        out.append(f"        - {{name: t{t}, max: {{gpu: {{T4: 4, A10: 4, A10G: 4, L4: 4, A100: 8, H100: 8}}}}}}")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$DROVERD" --serve --quiet --state-dir none --queues "$work/queues.yaml" --generate nodes=2000,pods=20000,seed=1 \
  --until 30m --health-port "$port" --admin-port "$admin" --admin-anonymous-read > "$work/droverd.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do curl -sf "localhost:$port/healthz" >/dev/null && break; sleep 0.5; done
curl -sf "localhost:$port/healthz" >/dev/null || { cat "$work/droverd.log"; exit 1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
queues=$(curl -s "localhost:$port/api/v1/admin/queues" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["queues"]))')
pending=$(curl -s "localhost:$port/api/v1/admin/pending?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
echo "page_load: $queues queues, $pending pending workloads (droverd --serve, generated 2,000 nodes)"
for path in "queues" "pending" "inventory" "usage?queue=root"; do
  times=(); bytes=0
  for _ in 1 2 3; do
    read -r t b < <(curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "localhost:$port/api/v1/admin/$path")
    times+=("$t"); bytes=$b
  done
  printf '  %-32s median %6.1f ms  %9d bytes\n' "/api/v1/admin/$path" \
    "$(printf '%s\n' "${times[@]}" | median | awk '{print $1 * 1000}')" "$bytes"
done
load() {  # wall seconds for chromium to load $1 and run its scripts
  local start end
  start=$(date +%s.%N)
  chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --virtual-time-budget=3000 \
    --window-size=1400,1600 --dump-dom "$1" > "$work/dom.html" 2>/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
blank=()
for _ in 1 2 3; do blank+=("$(load 'data:text/html,<p>x</p>')"); done
b=$(printf '%s\n' "${blank[@]}" | median)
printf '  chromium: an empty page %.2f s (start-up and the virtual-time budget)\n' "$b"
for view in "" "?expand=all"; do  # the tree at its top levels (the default), then every queue
  page=()
  for _ in 1 2 3; do page+=("$(load "http://127.0.0.1:$port/$view")"); done
  rows=$(grep -o 'data-queue=' "$work/dom.html" | wc -l)
  bars=$(grep -o 'class="dim"' "$work/dom.html" | wc -l)
  p=$(printf '%s\n' "${page[@]}" | median)
  printf '  chromium: /%s with %d queue rows and %d bars: median %.2f s, %.2f s more than an empty page\n' \
    "$view" "$rows" "$bars" "$p" "$(echo "$p - $b" | bc)"
done
