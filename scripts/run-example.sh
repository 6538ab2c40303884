#!/usr/bin/env bash
# The main job: droverd on the embedded simulated cluster with examples/, ending in a report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
./build/server/droverd --report-json build/report.json "$@"
echo "(JSON report: build/report.json)"
