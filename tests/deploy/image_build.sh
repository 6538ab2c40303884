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
tag="drover-droverd-test:$$"
"$tool" build -q -f deploy/Dockerfile -t "$tag" .
out=$("$tool" run --rm "$tag" --version)
"$tool" rmi -f "$tag" >/dev/null
echo "$out" | grep -q '^droverd ' || { echo "FAIL: droverd --version in the image printed: $out"; exit 1; }
echo "PASS: image built, $out"
