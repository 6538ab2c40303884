#!/usr/bin/env python3
"""droverd's web page in a real browser: headless Chromium loads it from a running
droverd (the simulated cluster with --serve) and the test asserts on the rendered DOM.

Run 1 (--admin-anonymous-read, a generated cluster with ~100 workloads pending):
  - the pending table lists exactly the pods `droverctl get pending` (the gRPC admin
    API) reports pending, with the same workloads, positions and total;
  - every usage bar's numbers (data-* and the text shown) match the published status
    (GET /api/v1/status, a separate code path), and so does the GPU inventory table;
  - a pending pod's timeline (from the store) and its place in line are shown;
  - the usage chart of root has points from the store.
Run 2 (tokens only): the page asks for a token (the endpoints answer 401 with
WWW-Authenticate: Bearer), a token from --admin-tokens reads, a bad query
parameter is a 400 naming it. No script builds markup from data (no innerHTML).
Screenshots: BUILD_DIR/page/*.png. Exit 77 (skipped) when chromium is not installed.

Usage: page_test.py SOURCE_DIR DROVERD DROVERCTL BUILD_DIR
"""
import glob
import html.parser
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SRC, DROVERD, DROVERCTL, BUILD = sys.argv[1:5]
TOKENS = os.path.join(SRC, "examples", "admin-tokens.csv")


def fail(msg):
    raise SystemExit(f"FAIL: {msg}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token=None):
    """(status, headers, parsed JSON body)"""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")


class Droverd:
    def __init__(self, extra):
        self.http, self.admin = free_port(), free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="droverd-page-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([DROVERD, "--serve", "--quiet", "--state-dir", "none", "--health-port", str(self.http),
                                      "--admin-port", str(self.admin), "--admin-tokens", TOKENS] + extra,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail(f"droverd exited ({self.proc.returncode}); log {self.log.name}")
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{self.http}/healthz", timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        fail("droverd did not serve /healthz within 60 s")

    def url(self, path):
        return f"http://127.0.0.1:{self.http}{path}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def chromium(url, screenshot=None):
    """The DOM after the page's scripts ran (virtual time lets its fetches finish)."""
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--virtual-time-budget=3000", "--window-size=1400,1600"]
    if screenshot:
        args.append(f"--screenshot={screenshot}")  # in the same run as the DOM dump
    return subprocess.run(args + ["--dump-dom", url], capture_output=True, timeout=60, check=True, text=True).stdout


class Dom(html.parser.HTMLParser):
    """A small element tree: enough to find elements by id, tag, class and data-*."""

    class Node:
        def __init__(self, tag, attrs, parent):
            self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], []

        def all(self, tag=None, cls=None, attr=None):
            for c in self.children:
                if (tag is None or c.tag == tag) and (cls is None or cls in c.attrs.get("class", "").split()) and \
                   (attr is None or attr in c.attrs):
                    yield c
                yield from c.all(tag, cls, attr)

        def first(self, **kw):
            return next(self.all(**kw), None)

        def content(self):
            return "".join(self.text) + "".join(c.content() + "".join(c.tail) for c in self.children)

    VOID = {"meta", "link", "input", "br", "img", "hr", "col", "source", "option_void"}

    def __init__(self, text):
        super().__init__()
        self.root = Dom.Node("#root", [], None)
        self.cur = self.root
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        n = Dom.Node(tag, attrs, self.cur)
        n.tail = []
        self.cur.children.append(n)
        if tag not in Dom.VOID:
            self.cur = n

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        (self.cur.children[-1].tail if self.cur.children else self.cur.text).append(data)

    def by_id(self, ident):
        return next((n for n in self.root.all() if n.attrs.get("id") == ident), None)


def all_pending_by_droverctl(d):
    out = subprocess.run([DROVERCTL, "--server", f"127.0.0.1:{d.admin}", "get", "pending", "--limit", "1000", "-o", "json"],
                         capture_output=True, text=True, timeout=30, env={**os.environ, "DROVER_TOKEN": "viewer-token"})
    if out.returncode != 0:
        fail(f"droverctl get pending: {out.stderr}")
    return json.loads(out.stdout)


def check_data_page(d):
    pending = all_pending_by_droverctl(d)
    total = int(pending["total"])
    if total < 20 or total > 1000 or len(pending["workloads"]) != total:
        fail(f"want 20..1000 workloads pending, all on one page; droverctl reports {total}")
    first_pod = pending["workloads"][0]["pods"][0]
    shot = os.path.join(BUILD, "page", "page.png")
    dom = Dom(chromium(d.url(f"/?page_size=1000&expand=all&pod={first_pod}"), screenshot=shot))
    if dom.by_id("content").attrs.get("hidden") is not None or dom.by_id("token-form").attrs.get("hidden") is None:
        fail("with anonymous reads the page must show its content, not the token form")
    err = dom.by_id("error")
    if err.attrs.get("hidden") is None:
        fail(f"the page shows an error: {err.content()}")

    # Pending: exactly the pods, workloads and positions the admin API reports.
    rows = list(dom.by_id("pending-table").first(tag="tbody").all(tag="tr"))
    page_pods = sorted(p.content() for r in rows for p in r.all(tag="span", cls="pod"))
    api_pods = sorted(p for w in pending["workloads"] for p in w["pods"])
    if page_pods != api_pods:
        fail(f"pending table lists {len(page_pods)} pods, the admin API {len(api_pods)}: "
             f"only on the page {sorted(set(page_pods) - set(api_pods))[:5]}, only in the API {sorted(set(api_pods) - set(page_pods))[:5]}")
    page_rows = [(r.attrs["data-workload"], next(r.all(tag="td")).content()) for r in rows]
    api_rows = [(w["workload"], w["position"] if int(w["position"]) > 0 else "–") for w in pending["workloads"]]
    if page_rows != api_rows:
        fail(f"pending rows (workload, position) differ from the admin API's order: {page_rows[:3]} vs {api_rows[:3]}")
    if dom.by_id("pending-total").attrs.get("data-total") != str(total):
        fail(f"pending total on the page {dom.by_id('pending-total').attrs.get('data-total')}, admin API {total}")

    # The queues' pending counts by tier (admin API) agree with the pending list.
    _, _, listed = get(d.url("/api/v1/admin/queues"))
    root = listed["queues"][0]
    by_tier = [sum(1 for w in pending["workloads"] if w["queue"] and w["tier"] == t) for t in range(3)]
    if [int(n) for n in root["pending_by_tier"]] != by_tier:
        fail(f"root's pending_by_tier {root['pending_by_tier']}, the pending list has {by_tier}")

    # Bars and inventory: the numbers match the published status.
    _, _, status = get(d.url("/api/v1/status"))
    queues = {q["path"]: q for q in status["queues"]}
    bars = 0
    for row in dom.by_id("queues-table").first(tag="tbody").all(tag="tr"):
        q = queues.pop(row.attrs["data-queue"], None)
        if q is None:
            fail(f"queue {row.attrs['data-queue']} on the page is not in the status")
        dims = {r["resource"]: r for r in q["resources"] if r["resource"] not in ("cpu", "memory")}
        shown = {b.attrs["data-resource"]: b for b in row.all(tag="div", cls="dim")}
        if set(shown) != set(dims):
            fail(f"{q['path']}: bars for {sorted(shown)}, status has {sorted(dims)}")
        for res, b in shown.items():
            want = dims[res]
            for key in ("usage", "guaranteed", "max", "borrowed"):
                if int(b.attrs[f"data-{key}"]) != want[key]:
                    fail(f"{q['path']} {res} {key}: bar says {b.attrs[f'data-{key}']}, status {want[key]}")
            for key in ("usage", "guaranteed", "max"):
                if float(b.first(tag="span", cls=key).content()) != want[key] / 1000:
                    fail(f"{q['path']} {res} {key}: bar shows {b.first(tag='span', cls=key).content()} GPUs, status {want[key]} milli")
            bars += 1
    if queues:
        fail(f"queues missing from the page: {sorted(queues)[:5]}")
    if bars == 0:
        fail("no usage bars drawn")
    gpu_rows = {r.attrs["data-type"]: [c.content() for c in r.all(tag="td")]
                for r in dom.by_id("gpus-table").first(tag="tbody").all(tag="tr")}
    for g in status["gpus"]:
        want = [str(g["nodes"]), str(g["total"]), f"{g['allocatedMilli'] / 1000:g}", str(g["free"]),
                str(g["wholeNodesFree"]), str(g["stranded"])]
        if gpu_rows.get(g["type"]) != want:
            fail(f"GPU inventory {g['type']}: page {gpu_rows.get(g['type'])}, status {want}")

    # One workload's timeline from the store, and its place in line.
    explain = dom.by_id("explain-out")
    if "waits in" not in explain.content() or "position 1" not in explain.content():
        fail(f"explain of {first_pod}: {explain.content()[:200]!r}")
    kinds = [r.attrs["data-kind"] for r in dom.by_id("timeline-table").first(tag="tbody").all(tag="tr")]
    if "submitted" not in kinds:
        fail(f"timeline of {first_pod} has no submitted event: {kinds}")

    # Usage over time: root's chart has points from the store.
    charts = list(dom.by_id("usage-out").all(tag="figure"))
    if not charts or max(int(c.attrs["data-points"]) for c in charts) == 0:
        fail("the usage chart has no points")
    # The same history from the command line: droverctl usage reads QueryUsage, as the chart's endpoint does.
    ctl = subprocess.run([DROVERCTL, "--server", f"127.0.0.1:{d.admin}", "usage", "root", "-o", "json"],
                         capture_output=True, text=True, timeout=30, env={**os.environ, "DROVER_TOKEN": "viewer-token"})
    if ctl.returncode != 0:
        fail(f"droverctl usage root: {ctl.stderr or ctl.stdout}")
    status, _, http_usage = get(d.url("/api/v1/admin/usage?queue=root"), token="viewer-token")
    if status != 200:
        fail(f"/api/v1/admin/usage?queue=root: {status}")
    ctl_usage = json.loads(ctl.stdout)

    def points(usage):  # Protobuf's JSON: droverctl leaves zeros out, the endpoint prints them
        keys = ("unix_ms", "allocated", "guaranteed", "effective_max", "borrowed", "pending_demand")
        return [(s["gpu_type"], [tuple(int(p.get(k, 0)) for k in keys) for p in s.get("points", [])])
                for s in usage.get("series", [])]
    if points(ctl_usage) != points(http_usage) or not points(ctl_usage):
        fail(f"droverctl usage root and /api/v1/admin/usage differ or are empty: {ctl.stdout[:300]!r}")
    bad = subprocess.run([DROVERCTL, "--server", f"127.0.0.1:{d.admin}", "usage", "root", "--window", "soon"],
                         capture_output=True, text=True, timeout=30, env={**os.environ, "DROVER_TOKEN": "viewer-token"})
    if bad.returncode != 2 or '--window "soon"' not in bad.stderr:
        fail(f"droverctl usage --window soon: exit {bad.returncode}, {bad.stderr!r}")
    print(f"page: {len(page_pods)} pending pods in {len(rows)} workloads as droverctl reports; {bars} bars match the status; "
          f"{len(kinds)} timeline events; {len(charts)} usage charts; screenshot {shot}")


def check_token_page(d):
    status, headers, body = get(d.url("/api/v1/admin/queues"))
    if status != 401 or not headers.get("WWW-Authenticate", "").startswith("Bearer"):
        fail(f"no token: want 401 with WWW-Authenticate: Bearer, got {status} {dict(headers)}")
    if get(d.url("/api/v1/admin/queues"), token="not-a-token")[0] != 401:
        fail("an unknown token must be refused")
    status, _, body = get(d.url("/api/v1/admin/queues"), token="viewer-token")
    if status != 200 or body["queues"][0]["path"] != "root":
        fail(f"viewer-token: {status} {body}")
    for query, param in (("pending?tier=7", "tier"), ("pending?colour=red", "colour"), ("pending?page_size=-1", "page_size"),
                         ("pending?reason=Sleepy", "reason"), ("explain?pod=nope", "pod"), ("usage?queue=root&step_seconds=5", "step_seconds"),
                         ("inventory?nodes=maybe", "nodes"), ("pending?queue=root.nowhere", "queue")):
        status, _, body = get(d.url(f"/api/v1/admin/{query}"), token="viewer-token")
        if status != 400 or param not in body.get("message", ""):
            fail(f"{query}: want 400 naming {param}, got {status} {body}")
    shot = os.path.join(BUILD, "page", "sign-in.png")
    dom = Dom(chromium(d.url("/"), screenshot=shot))
    if dom.by_id("token-form").attrs.get("hidden") is not None or dom.by_id("content").attrs.get("hidden") is None:
        fail("without a token the page must ask for one and hide its content")
    print(f"page: asks for a token (401 from its endpoints), reads with one, 400s name the parameter; screenshot {shot}")


def check_no_markup_from_data():
    for path in glob.glob(os.path.join(SRC, "server", "page", "*.js")):
        text = open(path, encoding="utf-8").read()
        for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            if banned in text:
                fail(f"{path} uses {banned}: build elements with el()/textContent")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    print("SKIP: chromium is not installed (apt-get install chromium; scripts/setup.sh --test installs it)")
    sys.exit(77)
os.makedirs(os.path.join(BUILD, "page"), exist_ok=True)
check_no_markup_from_data()
d = Droverd(["--generate", "nodes=30,pods=600,seed=3", "--until", "2h", "--admin-anonymous-read"])
try:
    check_data_page(d)
finally:
    d.stop()
d = Droverd(["--until", "20m"])
try:
    check_token_page(d)
finally:
    d.stop()
print("PASS")
