#!/usr/bin/env bash
# Builds deploy/Dockerfile and runs `droverd --version` in the image, where a
# container tool with a running daemon exists; exit 77 (ctest: skipped) with the
# reason where none does.
set -euo pipefail
cd "$(dirname "$0")/../.."
tool=""
for t in docker podman; do
  if command -v "$t" >/dev/null && "$t" info >/dev/null 2>&1; then tool=$t; break; fi
done
if [ -z "$tool" ]; then
  echo "SKIPPED: no docker or podman with a running daemon here; the image is not built"
  exit 77
fi
# The base images must be here already: this test never pulls from a registry.
for base in debian:12 debian:12-slim; do
  if ! "$tool" image inspect "$base" >/dev/null 2>&1; then
    echo "SKIPPED: base image $base is not present locally ($tool pull $base first); the image is not built"
    exit 77
  fi
done
tag="drover-droverd-test:$$"
"$tool" build -q --pull=false -f deploy/Dockerfile -t "$tag" .
out=$("$tool" run --rm "$tag" --version)
"$tool" rmi -f "$tag" >/dev/null
echo "$out" | grep -q '^droverd ' || { echo "FAIL: droverd --version in the image printed: $out"; exit 1; }
echo "PASS: image built, $out"
