#!/usr/bin/env bash
# Configures and builds Drover. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout, so another clone of the repository
# (CI's, a worktree) reuses the objects this machine already compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
dir=${1:-build}; shift || true
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
