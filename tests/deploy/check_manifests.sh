#!/bin/sh
# Checks the manifests in deploy/ (ctest: deploy_manifests).
#  1. python3 tests/deploy/check_manifests.py: structure, least-privilege RBAC, probes, securityContext,
#     ConfigMap content (always runs; standard library only).
#  2. kubectl apply --dry-run=client on deploy/ and deploy/examples/, when kubectl is installed (it is not a
#     Debian package, so CI usually skips this part). kubectl needs API discovery even for a client-side dry
#     run, so a discovery-only stub (discovery_stub.py, 127.0.0.1) stands in for the cluster; OpenAPI schema
#     validation is off because the stub has no schemas.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(cd "$here/../.." && pwd)}
status=0

python3 "$here/check_manifests.py" "$root" || status=1

if ! command -v kubectl >/dev/null 2>&1; then
  echo "SKIP: kubectl not found; kubectl apply --dry-run=client not run"
  exit $status
fi

tmp=$(mktemp -d /tmp/drover-deploy-check-XXXXXX)
python3 "$here/discovery_stub.py" "$tmp/port" &
stub=$!
trap 'kill $stub 2>/dev/null; wait $stub 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -s "$tmp/port" ]; then
  echo "FAIL: discovery stub did not start"
  exit 1
fi
port=$(cat "$tmp/port")
cat > "$tmp/kubeconfig" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: stub
  cluster:
    server: http://127.0.0.1:$port
users:
- name: stub
  user:
    token: unused
contexts:
- name: stub
  context: {cluster: stub, user: stub}
current-context: stub
KCFG
out="$tmp/out"
if KUBECONFIG="$tmp/kubeconfig" HOME="$tmp" kubectl apply --dry-run=client --validate=false \
     -f "$root/deploy/" -f "$root/deploy/examples/" >"$out" 2>&1; then
  n=$(grep -c "(dry run)" "$out")
  cat "$out"
  echo "kubectl apply --dry-run=client: $n objects OK"
else
  cat "$out"
  echo "FAIL: kubectl apply --dry-run=client"
  status=1
fi
exit $status
