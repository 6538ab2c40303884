#!/usr/bin/env bash
# Writes grafana-dashboard-configmap.yaml from grafana-dashboard.json (the JSON, verbatim, under data).
set -euo pipefail
cd "$(dirname "$0")"
{
  echo '# The dashboard of grafana-dashboard.json, verbatim, for Grafana'"'"'s sidecar (label grafana_dashboard: "1").'
  echo '# Regenerate: deploy/monitoring/make-dashboard-configmap.sh (the monitoring check compares them).'
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: drover-grafana-dashboard\n  namespace: drover-system\n'
  printf '  labels:\n    grafana_dashboard: "1"\ndata:\n  drover.json: |\n'
  sed -e 's/^/    /' -e 's/^ *$//' grafana-dashboard.json
} > grafana-dashboard-configmap.yaml
