#!/usr/bin/env python3
"""A real Prometheus scrapes droverd, and every dashboard query and alert expression
is evaluated through Prometheus' HTTP API.

droverd runs in cluster mode against the test API server (tests/k8s_api_server) with
a few GPU nodes and pods, so every series has data; Debian's prometheus scrapes its
/metrics every second. Then:
  - every query of deploy/monitoring/grafana-dashboard.json returns data;
  - every alert expression of deploy/monitoring/alerts.yaml is accepted by Prometheus,
    and every drover_* series it reads has data.
Exit 77 (skipped) when the prometheus binary is not installed.

Usage: prometheus_scrape_test.py SOURCE_DIR DROVERD_BINARY
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SRC, DROVERD = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SRC, "tests", "k8s_api_server"))
from fake_apiserver import FakeApiServer  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def wait_for(what, fn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception:  # not up yet
            pass
        time.sleep(0.5)
    raise SystemExit(f"FAIL: timed out waiting for {what}")


def node(name, product, gpus):
    alloc = {"cpu": "96", "memory": "768Gi", "pods": "110", "nvidia.com/gpu": str(gpus)}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"nvidia.com/gpu.product": product, "kubernetes.io/hostname": name}},
            "status": {"capacity": alloc, "allocatable": alloc,
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name, ns, queue, gpus, gpu_type, tier):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns,
                         "annotations": {"drover.io/queue": queue, "drover.io/gpu-type": gpu_type, "drover.io/tier": str(tier)}},
            "spec": {"schedulerName": "drover",
                     "containers": [{"name": "main", "image": "x",
                                     "resources": {"requests": {"cpu": "4", "memory": "16Gi"},
                                                   "limits": {"nvidia.com/gpu": str(gpus)}}}]}}


QUEUES = """
queues:
  children:
    - name: prod
      guaranteed: {gpu: {A100: 8}}
    - name: research
      max: {gpu: {A100: 12, T4: 4}}
"""


def main():
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        print("prometheus_scrape: the prometheus binary is not installed (Debian package prometheus): skipped")
        return 77
    work = tempfile.mkdtemp(prefix="drover-prom-")
    api = FakeApiServer().start()
    procs = []
    try:
        for i in range(2):
            request(f"{api.url}/api/v1/nodes", "POST", node(f"a100-{i}", "NVIDIA-A100-SXM4-80GB", 8))
        request(f"{api.url}/api/v1/nodes", "POST", node("t4-0", "Tesla-T4", 4))
        for ns in ("prod", "research"):
            request(f"{api.url}/api/v1/namespaces", "POST",
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for i in range(3):
            request(f"{api.url}/api/v1/namespaces/prod/pods", "POST", pod(f"train-{i}", "prod", "root.prod", 2, "A100", 0))
        for i in range(4):
            request(f"{api.url}/api/v1/namespaces/research/pods", "POST",
                    pod(f"sweep-{i}", "research", "root.research", 4, "A100", 2))
        # Never fits: always pending, so the pending series have data.
        request(f"{api.url}/api/v1/namespaces/research/pods", "POST", pod("huge", "research", "root.research", 4, "T4", 1))

        kubeconfig = os.path.join(work, "kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write(f"apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {api.url}\n"
                    "users:\n- name: anon\n  user: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n"
                    "    user: anon\n    namespace: drover-system\ncurrent-context: fake\n")
        queues = os.path.join(work, "queues.yaml")
        with open(queues, "w") as f:
            f.write(QUEUES)
        metrics_port = free_port()
        log = open(os.path.join(work, "droverd.log"), "w")
        procs.append(subprocess.Popen([DROVERD, "--kubeconfig", kubeconfig, "--queues", queues, "--leader-elect=false",
                                       "--health-port", str(metrics_port), "--admin-port", "0"], stdout=log, stderr=subprocess.STDOUT))
        wait_for("droverd's /metrics", lambda: urllib.request.urlopen(
            f"http://127.0.0.1:{metrics_port}/metrics", timeout=2).status == 200)

        prom_port = free_port()
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                    f"rule_files: [{os.path.join(SRC, 'deploy', 'monitoring', 'alerts.yaml')}]\n"
                    "scrape_configs:\n  - job_name: drover\n"
                    f"    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]\n")
        plog = open(os.path.join(work, "prometheus.log"), "w")
        procs.append(subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={work}/tsdb",
                                       f"--web.listen-address=127.0.0.1:{prom_port}"],
                                      stdout=plog, stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{prom_port}/api/v1/query?query="

        def query(q):
            r = request(base + urllib.parse.quote(q))
            if r.get("status") != "success":
                raise SystemExit(f"FAIL: Prometheus refused {q!r}: {r}")
            return r["data"]["result"]

        wait_for("Prometheus scraping droverd", lambda: query('up{job="drover"} == 1'), 90)
        wait_for("binds in the scraped data", lambda: query("drover_binds_total > 0"), 90)
        time.sleep(5)  # a few more scrapes, so rate() has two points in every window

        failures = []
        dash = json.load(open(os.path.join(SRC, "deploy", "monitoring", "grafana-dashboard.json")))
        n_dash = 0
        for p in dash["panels"]:
            for t in p["targets"]:
                q = (t["expr"].replace("$__rate_interval", "1m").replace('"$queue"', '".*"')
                     .replace('"$gpu_type"', '".*"'))
                n_dash += 1
                if not query(q):
                    failures.append(f"dashboard panel {p['title']!r}: no data for {q}")
        rules = open(os.path.join(SRC, "deploy", "monitoring", "alerts.yaml")).read()
        exprs = re.findall(r"expr: (.*)", rules)
        for e in exprs:
            query(e)  # accepted (an alert that does not fire returns nothing, as it should)
            for name in set(re.findall(r"\b(drover_[a-z0-9_]+)", e)):
                if not query(f"count({name})"):
                    failures.append(f"alert expression {e!r}: no data for {name}")
        # The adapter's counters: API requests by verb and code, informer lists.
        for q in ('sum(drover_apiserver_requests_total{verb="GET",code="200"}) > 0',
                  'drover_watch_lists_total{resource="pods"} > 0', 'drover_binds_total > 0'):
            if not query(q):
                failures.append(f"no data for {q}")
        rules_state = request(f"http://127.0.0.1:{prom_port}/api/v1/rules")
        loaded = sum(len(g["rules"]) for g in rules_state["data"]["groups"])
        if loaded != len(exprs):
            failures.append(f"Prometheus loaded {loaded} alert rules, alerts.yaml has {len(exprs)}")
        if failures:
            print("\n".join("FAIL: " + f for f in failures))
            return 1
        print(f"prometheus_scrape: {n_dash} dashboard queries returned data; {len(exprs)} alert expressions "
              f"evaluated and their series present; {loaded} rules loaded")
        return 0
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        api.stop()
        if os.environ.get("DROVER_KEEP_TMP") is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
