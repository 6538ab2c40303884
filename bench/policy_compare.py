#!/usr/bin/env python3
"""binpack against spread (and any other named policy) on the simulated cluster.

Runs droverd on the example (examples/*.yaml) and on a generated mixed-GPU cluster,
once per policy, and prints a markdown table from the JSON reports: GPU nodes
entirely free and stranded GPUs (idle GPUs on partly used nodes) as time-weighted
means, GPU allocation, pending time p50/p99 by tier, preemptions.

  bench/policy_compare.py                       # build/server/droverd, binpack vs spread
  bench/policy_compare.py --policies binpack,spread,fgd --generate nodes=2000,pods=20000,seed=1 --until 12h
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(droverd, policy, extra):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [droverd, "--quiet", "--policy", policy, "--report-json", f.name] + extra
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return json.load(open(f.name))


def pct(p):
    return "%.0fs / %.0fs" % (p["p50"], p["p99"]) if p and p.get("n") else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--droverd", default=os.path.join(ROOT, "build/server/droverd"))
    ap.add_argument("--policies", default="binpack,spread")
    ap.add_argument("--generate", default="nodes=2000,pods=20000,seed=1")
    ap.add_argument("--until", default="12h", help="window for the generated run (arrivals span 4h)")
    a = ap.parse_args()
    cases = [("example (36 nodes, 470 pods, queues)", []),
             ("generated %s, first %s" % (a.generate, a.until), ["--generate", a.generate, "--until", a.until])]
    print("| workload | policy | GPU nodes free (mean) | stranded GPUs (mean) | GPU alloc mean / peak | "
          "pending p50 / p99 tier 0 | tier 1 | tier 2 | preemptions | still pending | invariants |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for title, extra in cases:
        for policy in a.policies.split(","):
            r = run(a.droverd, policy, extra)
            tiers = r["pending_seconds_by_tier"]  # {"0": {p50, p95, p99, max, n}, ...}
            n = r["nodes"]
            print("| %s | %s | %.1f | %.1f | %.1f%% / %.1f%% | %s | %s | %s | %d | %d | %s |" % (
                title, policy, n["gpu_nodes_free_mean"], n["stranded_gpus_mean"],
                100 * r["gpu_allocation"]["mean"], 100 * r["gpu_allocation"]["peak"],
                pct(tiers.get("0")), pct(tiers.get("1")), pct(tiers.get("2")),
                r["pods"]["preemptions"], r["pods"]["pending"], "OK" if r["invariants_ok"] else "VIOLATED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
