#!/usr/bin/env bash
# deploy/monitoring: the alert rules pass `promtool check rules` and their unit tests
# (`promtool test rules`); the Grafana ConfigMap holds the dashboard JSON verbatim;
# every series the rules and the dashboard read is one droverd exports (named in
# server/metrics.cc). Exit 77 (skipped) without promtool (Debian package prometheus).
set -euo pipefail
src=${1:?usage: check_monitoring.sh SOURCE_DIR}
mon="$src/deploy/monitoring"
python3 - "$mon" "$src/server/metrics.cc" <<'PY'
import json, re, sys
mon, metrics_cc = sys.argv[1], sys.argv[2]
dash = json.load(open(f"{mon}/grafana-dashboard.json"))
cm = open(f"{mon}/grafana-dashboard-configmap.yaml").read()
body = cm.split("  drover.json: |\n", 1)[1]
lines = [l[4:] if l.startswith("    ") else l for l in body.rstrip("\n").split("\n")]
assert json.loads("\n".join(lines)) == dash, "grafana-dashboard-configmap.yaml differs from grafana-dashboard.json: run make-dashboard-configmap.sh"
exported = set(re.findall(r'"(drover_[a-z0-9_]+)"', open(metrics_cc).read()))
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
exprs += re.findall(r"expr: (.*)", open(f"{mon}/alerts.yaml").read())
missing = set()
for e in exprs:
    for name in re.findall(r"\b(drover_[a-z0-9_]+)", e):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in exported and base not in exported:
            missing.add(name)
assert not missing, f"series read by deploy/monitoring but not exported by droverd: {sorted(missing)}"
print(f"monitoring: dashboard ({len(dash['panels'])} panels) matches its ConfigMap; {len(exprs)} queries read exported series")
PY
if ! command -v promtool >/dev/null 2>&1; then
  echo "monitoring: promtool not found (Debian package prometheus): rule checks skipped"
  exit 77
fi
cd "$mon"
promtool check rules alerts.yaml
promtool test rules alerts_test.yaml
