#!/usr/bin/env bash
# Installs Drover's build dependencies from Debian 12 packages (with --test, the test tools too). Idempotent: it
# installs only what is missing, and says what it needs when it cannot install.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config python3
  libabsl-dev libyaml-cpp-dev libsimdjson-dev rapidjson-dev libcurl4-openssl-dev
  libspdlog-dev libcli11-dev catch2 libcpp-httplib-dev libssl-dev openssl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler librocksdb-dev prometheus-cpp-dev
)
# With --test, also what the tests use beside the build: promtool and a real Prometheus, and
# Debian's chromium for the web page's real-browser test (tests/page).
if [ "${1:-}" = "--test" ]; then PACKAGES+=(prometheus chromium); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: need root to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "setup: apt-get update failed; trying the cached package lists" >&2
install=()
for p in "${missing[@]}"; do
  if apt-cache show "$p" >/dev/null 2>&1; then install+=("$p"); else
    echo "setup: package $p is not available from apt; install it by hand" >&2; exit 1
  fi
done
[ ${#install[@]} -eq 0 ] || $SUDO apt-get install -y -qq --no-install-recommends "${install[@]}"
echo "setup: done"
