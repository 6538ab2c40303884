"""Protocol tests for fake_apiserver.py (stdlib unittest + http.client only).

Run: python3 -m unittest discover -s tests/k8s_api_server
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_apiserver import FakeApiServer  # noqa: E402

TOKEN = "s3cret"
NS = "/api/v1/namespaces/default"


def pod(name, labels=None, node=None, **spec):
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
         "spec": dict({"containers": [{"name": "c", "image": "busybox:1.36"}]}, **spec)}
    if node:
        p["spec"]["nodeName"] = node
    return p


def binding(name, node, **meta):
    return {"apiVersion": "v1", "kind": "Binding", "metadata": dict(name=name, **meta),
            "target": {"apiVersion": "v1", "kind": "Node", "name": node}}


class WatchStream:
    """A raw-socket watch client that decodes chunked framing itself."""

    def __init__(self, port, path, token=TOKEN):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        self.f = self.sock.makefile("rb")
        self.status = int(self.f.readline().split()[1])
        self.headers = {}
        while True:
            line = self.f.readline().decode().strip()
            if not line:
                break
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.buf, self.ended_cleanly = b"", False

    def _chunk(self):
        size_line = self.f.readline()
        if not size_line:
            raise EOFError("connection closed without terminating chunk")
        size = int(size_line.strip(), 16)
        data = self.f.read(size)
        self.f.readline()
        if size == 0:
            self.ended_cleanly = True
            return None
        return data

    def next(self):
        """Next event dict, or None when the stream ends cleanly."""
        while b"\n" not in self.buf:
            c = self._chunk()
            if c is None:
                return None
            self.buf += c
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def next_non_bookmark(self):
        while True:
            ev = self.next()
            if ev is None or ev["type"] != "BOOKMARK":
                return ev

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


class Base(unittest.TestCase):
    server_kwargs = {}

    def setUp(self):
        kw = dict(token=TOKEN, bookmark_interval=0.2, too_large_wait=0.3)
        kw.update(self.server_kwargs)
        self.srv = FakeApiServer(**kw).start()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        self.watches = []

    def tearDown(self):
        for w in self.watches:
            w.close()
        self.conn.close()
        self.srv.stop()

    def req(self, method, path, body=None, ctype="application/json", token=TOKEN, conn=None):
        conn = conn or self.conn
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = ctype
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        try:
            out = json.loads(raw) if raw else None
        except ValueError:
            out = raw
        self.last = r
        return r.status, out

    def ok(self, method, path, body=None, ctype="application/json", expect=(200, 201)):
        st, out = self.req(method, path, body, ctype)
        self.assertIn(st, expect if isinstance(expect, tuple) else (expect,), out)
        return out

    def watch(self, path):
        w = WatchStream(self.srv.port, path)
        self.watches.append(w)
        return w

    def assertStatus(self, out, code, reason):
        self.assertEqual(out["kind"], "Status")
        self.assertEqual(out["apiVersion"], "v1")
        self.assertEqual(out["status"], "Failure")
        self.assertEqual(out["code"], code)
        self.assertEqual(out.get("reason"), reason)
        self.assertIsInstance(out["message"], str)

    def control(self, path, body=None, method="POST"):
        st, out = self.req(method, "/_control/" + path, body if body is not None else ({} if method == "POST" else None))
        self.assertEqual(st, 200, out)
        return out


# --------------------------------------------------------------------------
class TestBasics(Base):
    def test_auth(self):
        for token in (None, "wrong"):
            st, out = self.req("GET", "/api/v1/pods", token=token)
            self.assertEqual(st, 401)
            self.assertStatus(out, 401, "Unauthorized")
        st, _ = self.req("GET", "/api/v1/pods")
        self.assertEqual(st, 200)

    def test_create_get_already_exists_not_found(self):
        out = self.ok("POST", NS + "/pods", pod("a"), expect=201)
        md = out["metadata"]
        self.assertIsInstance(md["resourceVersion"], str)
        self.assertTrue(md["uid"] and md["creationTimestamp"].endswith("Z"))
        self.assertEqual(md["namespace"], "default")
        self.assertEqual(out["status"]["phase"], "Pending")
        self.assertEqual(out["spec"]["schedulerName"], "default-scheduler")
        got = self.ok("GET", NS + "/pods/a")
        self.assertEqual(got["metadata"]["uid"], md["uid"])
        self.assertEqual(list(got)[:5], ["kind", "apiVersion", "metadata", "spec", "status"])  # Go field order
        self.assertEqual(got["kind"], "Pod")
        st, out = self.req("POST", NS + "/pods", pod("a"))
        self.assertEqual(st, 409)
        self.assertStatus(out, 409, "AlreadyExists")
        self.assertEqual(out["message"], 'pods "a" already exists')
        st, out = self.req("GET", NS + "/pods/zz")
        self.assertEqual(st, 404)
        self.assertStatus(out, 404, "NotFound")
        self.assertEqual(out["message"], 'pods "zz" not found')
        self.assertEqual(out["details"], {"name": "zz", "kind": "pods"})
        st, out = self.req("GET", "/apis/coordination.k8s.io/v1/namespaces/x/leases/l")
        self.assertEqual(out["message"], 'leases.coordination.k8s.io "l" not found')
        self.assertEqual(out["details"]["group"], "coordination.k8s.io")

    def test_errors_bad_json_unknown_path_method(self):
        st, out = self.req("POST", NS + "/pods", b"{not json")
        self.assertEqual(st, 400)
        self.assertStatus(out, 400, "BadRequest")
        st, out = self.req("GET", "/api/v1/widgets")
        self.assertEqual(st, 404)
        self.assertStatus(out, 404, "NotFound")
        st, out = self.req("PUT", NS + "/pods", pod("x"))
        self.assertEqual(st, 405)
        self.assertStatus(out, 405, "MethodNotAllowed")
        st, out = self.req("POST", NS + "/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"},
                                                  "spec": {"containers": [{"name": "c", "image": "i"}]}})
        self.assertEqual(st, 422)
        self.assertStatus(out, 422, "Invalid")
        self.assertTrue(out["message"].startswith('Pod "Bad_Name" is invalid: metadata.name'))
        st, out = self.req("POST", NS + "/pods", {"metadata": {"name": "nocontainers"}, "spec": {}})
        self.assertEqual(st, 422)
        self.assertEqual(self.req("POST", "/api/v1/pods", pod("clusterwide"))[0], 405)
        self.assertEqual(self.req("POST", NS + "/pods?dryRun=All", pod("dry"))[0], 400)
        self.assertEqual(self.req("GET", NS + "/pods/dry")[0], 404)

    def test_global_resource_version_is_monotonic_across_resources(self):
        rvs = [int(self.ok("POST", "/api/v1/nodes", {"metadata": {"name": "n1"}})["metadata"]["resourceVersion"]),
               int(self.ok("POST", NS + "/pods", pod("p"))["metadata"]["resourceVersion"]),
               int(self.ok("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
                           {"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}})["metadata"]["resourceVersion"])]
        self.assertEqual(rvs, sorted(set(rvs)))
        lst = self.ok("GET", "/api/v1/nodes")
        self.assertEqual(lst["kind"], "NodeList")
        self.assertEqual(int(lst["metadata"]["resourceVersion"]), rvs[-1])

    def test_keep_alive_and_content_length(self):
        self.ok("POST", NS + "/pods", pod("k"))
        for _ in range(50):
            st, _ = self.req("GET", NS + "/pods/k")
            self.assertEqual(st, 200)
            self.assertIsNotNone(self.last.getheader("Content-Length"))
            self.assertEqual(self.last.getheader("Content-Type"), "application/json")
        self.assertIsNotNone(self.conn.sock, "connection must have been kept alive")

    def test_discovery_and_health(self):
        self.assertEqual(self.ok("GET", "/version")["major"], "1")
        names = [r["name"] for r in self.ok("GET", "/api/v1")["resources"]]
        self.assertIn("pods/binding", names)
        groups = [g["name"] for g in self.ok("GET", "/apis")["groups"]]
        self.assertIn("coordination.k8s.io", groups)
        st, body = self.req("GET", "/healthz", token=None)
        self.assertEqual((st, body), (200, b"ok"))


class TestUpdatesAndPatches(Base):
    def test_put_optimistic_concurrency_and_noop(self):
        p = self.ok("POST", NS + "/pods", pod("u", labels={"a": "1"}))
        rv1 = p["metadata"]["resourceVersion"]
        p["metadata"]["labels"]["a"] = "2"
        p2 = self.ok("PUT", NS + "/pods/u", p)
        self.assertNotEqual(p2["metadata"]["resourceVersion"], rv1)
        st, out = self.req("PUT", NS + "/pods/u", p)   # p still carries rv1 -> stale
        self.assertEqual(st, 409)
        self.assertStatus(out, 409, "Conflict")
        self.assertEqual(out["message"], 'Operation cannot be fulfilled on pods "u": the object has been modified; '
                                         'please apply your changes to the latest version and try again')
        p3 = self.ok("PUT", NS + "/pods/u", p2)       # no-op: same resourceVersion returned
        self.assertEqual(p3["metadata"]["resourceVersion"], p2["metadata"]["resourceVersion"])
        st, out = self.req("PUT", NS + "/pods/other", p2)
        self.assertEqual(st, 400)

    def test_lease_concurrency(self):
        base = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
        l = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "drover"},
             "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
        st, created = self.req("PUT", base + "/drover", l)      # AllowCreateOnUpdate for leases
        self.assertEqual(st, 201, created)
        l2 = json.loads(json.dumps(created))
        l2["spec"]["holderIdentity"] = "b"
        del l2["metadata"]["resourceVersion"]
        st, out = self.req("PUT", base + "/drover", l2)          # unconditional update not allowed
        self.assertEqual(st, 422)
        self.assertIn("metadata.resourceVersion", out["message"])
        l2["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
        upd = self.ok("PUT", base + "/drover", l2)
        self.assertEqual(upd["spec"]["holderIdentity"], "b")
        st, out = self.req("PUT", base + "/drover", l2)          # same RV again: stale
        self.assertEqual(st, 409)
        self.assertStatus(out, 409, "Conflict")

    def test_patches(self):
        self.ok("POST", NS + "/pods", pod("q"))
        smp = "application/strategic-merge-patch+json"
        self.ok("PATCH", NS + "/pods/q/status", {"status": {"conditions": [
            {"type": "Ready", "status": "False"}, {"type": "Custom", "status": "True"}]}}, smp)
        out = self.ok("PATCH", NS + "/pods/q/status", {"status": {"conditions": [{"type": "Ready", "status": "True"}],
                                                                  "nominatedNodeName": "n9"}}, smp)
        conds = {c["type"]: c["status"] for c in out["status"]["conditions"]}
        self.assertEqual(conds, {"Ready": "True", "Custom": "True"})     # merged by key "type"
        self.assertEqual(out["status"]["nominatedNodeName"], "n9")
        out = self.ok("PATCH", NS + "/pods/q/status", {"status": {"conditions": [{"type": "X", "status": "True"}]}},
                      "application/merge-patch+json")
        self.assertEqual([c["type"] for c in out["status"]["conditions"]], ["X"])   # merge patch replaces lists
        out = self.ok("PATCH", NS + "/pods/q", [{"op": "add", "path": "/metadata/labels/j", "value": "p"}],
                      "application/json-patch+json")
        self.assertEqual(out["metadata"]["labels"]["j"], "p")
        st, out = self.req("PATCH", NS + "/pods/q", [{"op": "test", "path": "/metadata/name", "value": "no"}],
                           "application/json-patch+json")
        self.assertEqual(st, 422)
        st, out = self.req("PATCH", NS + "/pods/q", {"metadata": {"labels": {"a": "b"}}}, "application/xml")
        self.assertEqual(st, 415)
        self.assertStatus(out, 415, "UnsupportedMediaType")
        st, out = self.req("PATCH", NS + "/pods/q", {"metadata": {"resourceVersion": "1", "labels": {"z": "1"}}},
                           "application/merge-patch+json")
        self.assertEqual(st, 409)   # resourceVersion in a patch is a precondition
        st, out = self.req("PATCH", NS + "/pods/q", {"spec": {"nodeName": "sneaky"}}, "application/merge-patch+json")
        self.assertEqual(st, 422)   # pod spec is immutable except a few fields: use binding
        self.assertIn("Forbidden: pod updates may not change fields", out["message"])

    def test_status_subresource_isolation(self):
        p = self.ok("POST", NS + "/pods", pod("s"))
        p["status"] = {"phase": "Running"}
        p["metadata"]["labels"] = {"x": "y"}
        out = self.ok("PUT", NS + "/pods/s", p)
        self.assertEqual(out["status"]["phase"], "Pending")   # main resource ignores status
        self.assertEqual(out["metadata"]["labels"], {"x": "y"})
        out["status"]["phase"] = "Running"
        out["spec"]["activeDeadlineSeconds"] = 5
        out2 = self.ok("PUT", NS + "/pods/s/status", out)
        self.assertEqual(out2["status"]["phase"], "Running")  # status endpoint ignores spec
        self.assertNotIn("activeDeadlineSeconds", out2["spec"])

    def test_delete_semantics(self):
        self.ok("POST", NS + "/pods", pod("d"))
        out = self.ok("DELETE", NS + "/pods/d")
        self.assertEqual(out["kind"], "Pod")     # pods return the deleted object
        st, _ = self.req("GET", NS + "/pods/d")
        self.assertEqual(st, 404)
        self.ok("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
                {"metadata": {"name": "b"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "b"}}}})
        out = self.ok("DELETE", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/b")
        self.assertEqual(out["status"], "Success")
        self.assertEqual(out["details"]["kind"], "poddisruptionbudgets")
        st, out = self.req("DELETE", NS + "/pods/d")
        self.assertEqual(st, 404)

    def test_finalizers_and_graceful_pod_delete(self):
        p = pod("f")
        p["metadata"]["finalizers"] = ["x/y"]
        self.ok("POST", NS + "/pods", p)
        out = self.ok("DELETE", NS + "/pods/f")
        self.assertIn("deletionTimestamp", out["metadata"])
        cur = self.ok("GET", NS + "/pods/f")
        cur["metadata"]["finalizers"] = []
        self.ok("PUT", NS + "/pods/f", cur)
        self.assertEqual(self.req("GET", NS + "/pods/f")[0], 404)
        self.control("faults", {"pod_grace_delay_s": 0.3})
        self.ok("POST", NS + "/pods", pod("g", node="n1"))
        out = self.ok("DELETE", NS + "/pods/g")
        self.assertIn("deletionTimestamp", out["metadata"])
        self.assertEqual(self.req("GET", NS + "/pods/g")[0], 200)
        time.sleep(0.8)
        self.assertEqual(self.req("GET", NS + "/pods/g")[0], 404)

    def test_events_both_api_groups(self):
        ev = {"metadata": {"name": "e1"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
              "reason": "Scheduled", "message": "hello", "type": "Normal"}
        self.ok("POST", NS + "/events", ev)
        v1 = self.ok("GET", "/apis/events.k8s.io/v1/namespaces/default/events/e1")
        self.assertEqual((v1["apiVersion"], v1["note"], v1["regarding"]["name"]), ("events.k8s.io/v1", "hello", "p"))
        self.ok("POST", "/apis/events.k8s.io/v1/namespaces/default/events",
                {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e2"},
                 "regarding": {"kind": "Pod", "name": "q"}, "note": "n2", "reason": "R", "type": "Warning",
                 "reportingController": "drover", "reportingInstance": "d-1", "action": "Binding",
                 "eventTime": "2024-01-01T00:00:00.000000Z"})
        core = self.ok("GET", NS + "/events/e2")
        self.assertEqual((core["message"], core["involvedObject"]["name"], core["reportingComponent"]),
                         ("n2", "q", "drover"))
        lst = self.ok("GET", NS + "/events?fieldSelector=involvedObject.name%3Dq")
        self.assertEqual([i["metadata"]["name"] for i in lst["items"]], ["e2"])
        out = self.ok("PATCH", NS + "/events/e1", {"count": 2}, "application/merge-patch+json")
        self.assertEqual(out["count"], 2)
        w = self.watch("/apis/events.k8s.io/v1/namespaces/default/events?watch=1&fieldSelector="
                       + urllib.parse.quote("regarding.name=p"))
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["apiVersion"], ev["object"]["deprecatedCount"]),
                         ("ADDED", "events.k8s.io/v1", 2))


class TestList(Base):
    def test_items_have_no_kind_and_selectors(self):
        self.ok("POST", NS + "/pods", pod("a", {"app": "x", "tier": "1"}, node="n1"))
        self.ok("POST", NS + "/pods", pod("b", {"app": "y"}))
        self.ok("POST", "/api/v1/namespaces/other/pods", pod("c", {"app": "x"}))

        def names(query, path="/api/v1/pods"):
            out = self.ok("GET", path + "?" + urllib.parse.urlencode(query))
            for it in out["items"]:
                self.assertNotIn("kind", it)      # list items carry no kind/apiVersion on the wire
            return sorted(i["metadata"]["name"] for i in out["items"])

        self.assertEqual(names({"labelSelector": "app=x"}), ["a", "c"])
        self.assertEqual(names({"labelSelector": "app==x,tier"}), ["a"])
        self.assertEqual(names({"labelSelector": "app!=x"}), ["b"])
        self.assertEqual(names({"labelSelector": "app in (y, z)"}), ["b"])
        self.assertEqual(names({"labelSelector": "app notin (y)"}), ["a", "c"])
        self.assertEqual(names({"labelSelector": "!tier"}), ["b", "c"])
        self.assertEqual(names({"fieldSelector": "spec.nodeName="}), ["b", "c"])
        self.assertEqual(names({"fieldSelector": "spec.nodeName!=,status.phase==Pending"}), ["a"])
        self.assertEqual(names({"fieldSelector": "metadata.namespace=other"}), ["c"])
        self.assertEqual(names({"fieldSelector": "metadata.name=b"}, NS + "/pods"), ["b"])
        self.assertEqual(names({"fieldSelector": "spec.schedulerName=default-scheduler"}), ["a", "b", "c"])
        st, out = self.req("GET", "/api/v1/pods?fieldSelector=spec.bogus%3D1")
        self.assertEqual(st, 400)
        self.assertEqual(out["message"], "field label not supported: spec.bogus")
        st, out = self.req("GET", "/api/v1/pods?labelSelector=" + urllib.parse.quote("a in (b"))
        self.assertEqual(st, 400)

    def test_pagination_is_a_consistent_snapshot(self):
        self.control("objects", {"generate": {"pods": 25, "namespace": "default"}})
        out = self.ok("GET", NS + "/pods?limit=10")
        rv, seen = out["metadata"]["resourceVersion"], [i["metadata"]["name"] for i in out["items"]]
        self.assertEqual(out["metadata"]["remainingItemCount"], 15)
        self.ok("DELETE", NS + "/pods/pod-9")            # later in key order: must still be listed
        self.ok("POST", NS + "/pods", pod("pod-99"))     # created after the snapshot: must not be
        tok = out["metadata"]["continue"]
        while tok:
            out = self.ok("GET", NS + "/pods?limit=10&continue=" + urllib.parse.quote(tok))
            self.assertEqual(out["metadata"]["resourceVersion"], rv)
            seen += [i["metadata"]["name"] for i in out["items"]]
            tok = out["metadata"].get("continue")
        self.assertEqual(len(seen), 25)
        self.assertEqual(seen, sorted(seen))
        self.assertIn("pod-9", seen)
        self.assertNotIn("pod-99", seen)

    def test_continue_token_expired_and_invalid(self):
        self.control("objects", {"generate": {"pods": 5}})
        out = self.ok("GET", NS + "/pods?limit=2")
        self.control("faults", {"compact": True})
        st, err = self.req("GET", NS + "/pods?limit=2&continue=" + out["metadata"]["continue"])
        self.assertEqual(st, 410)
        self.assertStatus(err, 410, "Expired")
        self.assertTrue(err["metadata"]["continue"], "410 carries an inconsistent-continue token")
        more = self.ok("GET", NS + "/pods?limit=10&continue=" + err["metadata"]["continue"])
        self.assertEqual(len(more["items"]), 3)
        st, err = self.req("GET", NS + "/pods?limit=2&continue=garbage")
        self.assertEqual(st, 400)
        self.assertStatus(err, 400, "BadRequest")

    def test_resource_version_semantics(self):
        self.ok("POST", NS + "/pods", pod("old"))
        rv = self.ok("GET", NS + "/pods")["metadata"]["resourceVersion"]
        self.ok("DELETE", NS + "/pods/old")
        past = self.ok("GET", NS + f"/pods?resourceVersion={rv}&resourceVersionMatch=Exact")
        self.assertEqual([i["metadata"]["name"] for i in past["items"]], ["old"])
        self.assertEqual(past["metadata"]["resourceVersion"], rv)
        now = self.ok("GET", NS + f"/pods?resourceVersion={rv}&resourceVersionMatch=NotOlderThan")
        self.assertEqual(now["items"], [])
        self.assertEqual(self.ok("GET", NS + "/pods?resourceVersion=0")["items"], [])
        st, out = self.req("GET", NS + "/pods?resourceVersionMatch=Exact")
        self.assertEqual(st, 422)
        st, out = self.req("GET", NS + "/pods?resourceVersion=999999")
        self.assertEqual(st, 504)
        self.assertStatus(out, 504, "Timeout")
        self.control("faults", {"compact": True})
        st, out = self.req("GET", NS + f"/pods?resourceVersion={rv}&resourceVersionMatch=Exact")
        self.assertEqual(st, 410)

    def test_100k_pods_paginated(self):
        n = int(os.environ.get("FAKE_APISERVER_BIG_LIST", "100000"))
        t0 = time.monotonic()
        self.assertEqual(self.control("objects", {"generate": {"pods": n, "namespace": "big"}})["created"], n)
        seeded = time.monotonic() - t0
        total, tok, pages = 0, None, 0
        while True:
            q = "limit=500" + (f"&continue={tok}" if tok else "")
            out = self.ok("GET", f"/api/v1/pods?{q}")
            total += len(out["items"])
            pages += 1
            tok = out["metadata"].get("continue")
            if not tok:
                break
        self.assertEqual(total, n)
        self.assertEqual(pages, -(-n // 500))
        sys.stderr.write(f"[seeded {n} pods in {seeded:.1f}s, listed in {time.monotonic() - t0 - seeded:.1f}s] ")


class TestWatch(Base):
    server_kwargs = {"history_size": 50}

    def test_watch_from_rv_replays_in_order_then_live(self):
        rv0 = self.ok("GET", NS + "/pods")["metadata"]["resourceVersion"]
        for n in ("w1", "w2", "w3"):
            self.ok("POST", NS + "/pods", pod(n))
        w = self.watch(NS + f"/pods?watch=true&resourceVersion={rv0}")
        self.assertEqual(w.status, 200)
        self.assertEqual(w.headers.get("transfer-encoding"), "chunked")
        got = [w.next() for _ in range(3)]
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in got],
                         [("ADDED", "w1"), ("ADDED", "w2"), ("ADDED", "w3")])
        self.assertEqual(got[0]["object"]["kind"], "Pod")   # watch objects do carry kind
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in got]
        self.assertEqual(rvs, sorted(rvs))
        self.ok("PATCH", NS + "/pods/w2", {"metadata": {"labels": {"k": "v"}}}, "application/merge-patch+json")
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("MODIFIED", "w2"))
        last = self.ok("DELETE", NS + "/pods/w1")
        ev = w.next()
        self.assertEqual(ev["type"], "DELETED")
        self.assertEqual(ev["object"]["metadata"]["resourceVersion"], last["metadata"]["resourceVersion"])
        self.assertGreater(int(ev["object"]["metadata"]["resourceVersion"]), rvs[-1])

    def test_watch_without_rv_sends_initial_state(self):
        self.ok("POST", NS + "/pods", pod("i1"))
        self.ok("POST", "/api/v1/nodes", {"metadata": {"name": "nn"}})
        w = self.watch(NS + "/pods?watch=1")
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "i1"))
        self.ok("POST", NS + "/pods", pod("i2"))
        self.assertEqual(w.next()["object"]["metadata"]["name"], "i2")

    def test_watch_too_old_resource_version(self):
        rv0 = int(self.ok("GET", NS + "/pods")["metadata"]["resourceVersion"])
        self.control("objects", {"generate": {"pods": 60}})
        w = self.watch(NS + f"/pods?watch=true&resourceVersion={rv0}")
        self.assertEqual(w.status, 200)
        ev = w.next()
        self.assertEqual(ev["type"], "ERROR")
        self.assertStatus(ev["object"], 410, "Expired")
        self.assertRegex(ev["object"]["message"], rf"^too old resource version: {rv0} \(\d+\)$")
        self.assertIsNone(w.next())
        self.assertTrue(w.ended_cleanly)

    def test_expire_before_rv_fault(self):
        rv0 = int(self.ok("GET", NS + "/pods")["metadata"]["resourceVersion"])
        self.ok("POST", NS + "/pods", pod("e1"))
        self.control("faults", {"expire_before_rv": rv0 + 1})
        self.assertEqual(self.watch(NS + f"/pods?watch=1&resourceVersion={rv0}").next()["type"], "ERROR")
        self.assertEqual(self.watch(NS + f"/pods?watch=1&resourceVersion={rv0 + 1}&timeoutSeconds=1").next(), None)

    def test_bookmarks(self):
        self.ok("POST", NS + "/pods", pod("b1"))
        rv = self.ok("GET", NS + "/pods")["metadata"]["resourceVersion"]
        self.ok("POST", "/api/v1/nodes", {"metadata": {"name": "nb"}})   # other resource bumps the global RV
        w = self.watch(NS + f"/pods?watch=true&resourceVersion={rv}&allowWatchBookmarks=true")
        ev = w.next()
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(ev["object"]["kind"], "Pod")
        self.assertEqual(ev["object"]["apiVersion"], "v1")
        self.assertEqual(set(ev["object"]), {"kind", "apiVersion", "metadata"})
        self.assertEqual(int(ev["object"]["metadata"]["resourceVersion"]), int(rv) + 1)
        w2 = self.watch(NS + f"/pods?watch=true&resourceVersion={rv}&timeoutSeconds=1")
        self.assertIsNone(w2.next_non_bookmark())      # no bookmarks unless asked, clean end

    def test_selector_transitions(self):
        self.ok("POST", NS + "/pods", pod("s1", {"app": "a"}))
        w = self.watch(NS + "/pods?watch=true&labelSelector=app%3Da")
        self.assertEqual(w.next()["type"], "ADDED")
        out = self.ok("PATCH", NS + "/pods/s1", {"metadata": {"labels": {"app": "b"}}}, "application/merge-patch+json")
        ev = w.next()
        self.assertEqual(ev["type"], "DELETED")       # left the selection
        self.assertEqual(ev["object"]["metadata"]["resourceVersion"], out["metadata"]["resourceVersion"])
        self.ok("PATCH", NS + "/pods/s1", {"metadata": {"labels": {"app": "a"}}}, "application/merge-patch+json")
        self.assertEqual(w.next()["type"], "ADDED")   # re-entered
        w2 = self.watch("/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dn1")
        self.ok("POST", NS + "/pods/s1/binding", binding("s1", "n1"))
        ev = w2.next()
        self.assertEqual((ev["type"], ev["object"]["spec"]["nodeName"]), ("ADDED", "n1"))

    def test_timeout_closes_cleanly_and_connection_is_reusable(self):
        w = self.watch(NS + "/pods?watch=true&timeoutSeconds=1")
        t0 = time.monotonic()
        self.assertIsNone(w.next())
        self.assertTrue(w.ended_cleanly)
        self.assertLess(time.monotonic() - t0, 3)
        w.sock.sendall(f"GET /api/v1/pods HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
        self.assertIn(b"200", w.f.readline())

    def test_drop_watches_is_abrupt(self):
        w = self.watch(NS + "/pods?watch=true")
        deadline = time.monotonic() + 5
        while self.control("stats", method="GET")["watches"]["open"] != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.control("faults", {"drop_watches": True})["dropped_watches"], 1)
        with self.assertRaises(EOFError):
            w.next()
        self.assertFalse(w.ended_cleanly)
        deadline = time.monotonic() + 5
        while self.control("stats", method="GET")["watches"]["open"] and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.control("stats", method="GET")["watches"]["open"], 0)

    def test_send_initial_events_bookmark(self):
        self.ok("POST", NS + "/pods", pod("x1"))
        w = self.watch(NS + "/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                            "&allowWatchBookmarks=true")
        self.assertEqual(w.next()["type"], "ADDED")
        ev = w.next()
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(ev["object"]["metadata"]["annotations"], {"k8s.io/initial-events-end": "true"})


class TestSubresources(Base):
    def test_binding(self):
        self.ok("POST", NS + "/pods", pod("p1"))
        st, out = self.req("POST", NS + "/pods/p1/binding", binding("p1", "node-1", annotations={"k": "v"}))
        self.assertEqual(st, 201)
        self.assertEqual(out, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
        p = self.ok("GET", NS + "/pods/p1")
        self.assertEqual(p["spec"]["nodeName"], "node-1")
        self.assertEqual(p["metadata"]["annotations"], {"k": "v"})
        self.assertIn({"type": "PodScheduled", "status": "True"},
                      [{k: c[k] for k in ("type", "status")} for c in p["status"]["conditions"]])
        st, out = self.req("POST", NS + "/pods/p1/binding", binding("p1", "node-2"))
        self.assertEqual(st, 409)
        self.assertStatus(out, 409, "Conflict")
        self.assertEqual(out["message"], 'Operation cannot be fulfilled on pods/binding "p1": '
                                         'pod p1 is already assigned to node "node-1"')
        st, out = self.req("POST", NS + "/pods/nope/binding", binding("nope", "node-1"))
        self.assertEqual(st, 404)
        self.assertEqual(out["message"], 'pods "nope" not found')
        st, out = self.req("POST", NS + "/pods/p1/binding", binding("other", "node-1"))
        self.assertEqual(st, 400)
        b = self.control("stats", method="GET")["binds"]["default/p1"]
        self.assertEqual((b["succeeded"], b["conflicts"], b["node"]), (1, 1, "node-1"))

    def test_bind_error_faults(self):
        self.ok("POST", NS + "/pods", pod("f1"))
        self.control("faults", {"bind_errors": {"code": 429, "count": 2, "retry_after": 3}})
        for _ in range(2):
            st, out = self.req("POST", NS + "/pods/f1/binding", binding("f1", "n"))
            self.assertEqual(st, 429)
            self.assertStatus(out, 429, "TooManyRequests")
            self.assertEqual(self.last.getheader("Retry-After"), "3")
        self.assertEqual(self.req("POST", NS + "/pods/f1/binding", binding("f1", "n"))[0], 201)
        self.ok("POST", NS + "/pods", pod("f2"))
        self.control("faults", {"bind_errors": {"code": 500, "count": 1, "after_commit": True}})
        self.assertEqual(self.req("POST", NS + "/pods/f2/binding", binding("f2", "n"))[0], 500)
        self.assertEqual(self.ok("GET", NS + "/pods/f2")["spec"]["nodeName"], "n")   # it did bind
        self.assertEqual(self.req("POST", NS + "/pods/f2/binding", binding("f2", "n"))[0], 409)
        stats = self.control("stats", method="GET")["binds"]
        self.assertEqual(stats["default/f1"]["succeeded"], 1)
        self.assertEqual(stats["default/f1"]["injected_failures"], 2)
        self.assertEqual(stats["default/f2"]["succeeded"], 1)
        # An after-commit fault is spent only by a bind that commits: a retry that
        # meets the 409 of its own earlier bind leaves it for the next one.
        self.ok("POST", NS + "/pods", pod("f3"))
        self.control("faults", {"bind_errors": {"code": 500, "count": 1, "after_commit": True}})
        self.assertEqual(self.req("POST", NS + "/pods/f2/binding", binding("f2", "n"))[0], 409)
        self.assertEqual(self.req("POST", NS + "/pods/f3/binding", binding("f3", "n"))[0], 500)
        self.assertEqual(self.req("POST", NS + "/pods/f3/binding", binding("f3", "n"))[0], 409)
        stats = self.control("stats", method="GET")["binds"]
        self.assertEqual(stats["default/f3"]["injected_failures"], 1)
        self.assertEqual(stats["default/f3"]["succeeded"], 1)

    def test_fail_next_and_latency(self):
        self.control("faults", {"fail_next": {"path_regex": "/pods$", "code": 503, "count": 2, "verb": "list"}})
        self.assertEqual(self.req("GET", NS + "/pods")[0], 503)
        self.assertEqual(self.req("GET", NS + "/pods")[0], 503)
        self.assertEqual(self.req("GET", NS + "/pods")[0], 200)
        self.ok("POST", NS + "/pods", pod("l1"))
        self.control("faults", {"latency_ms": 300, "paths": "binding"})
        t0 = time.monotonic()
        self.ok("POST", NS + "/pods/l1/binding", binding("l1", "n"))
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        t0 = time.monotonic()
        self.ok("GET", NS + "/pods/l1")
        self.assertLess(time.monotonic() - t0, 0.3)

    def test_eviction_respects_pdb(self):
        self.control("objects", {"objects": [
            dict(pod(f"r{i}", {"app": "x"}, node="n"), status={"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True"}]}) for i in range(3)] + [pod("pending", {"app": "x"})]})
        self.ok("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
                {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "pdb"},
                 "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "x"}}}})
        ev = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "r0", "namespace": "default"}}
        st, out = self.req("POST", NS + "/pods/r0/eviction", ev)
        self.assertEqual(st, 201, out)
        self.assertEqual(out["status"], "Success")
        self.assertEqual(self.req("GET", NS + "/pods/r0")[0], 404)
        st, out = self.req("POST", NS + "/pods/r1/eviction", dict(ev, metadata={"name": "r1"}))
        self.assertEqual(st, 429)
        self.assertStatus(out, 429, "TooManyRequests")
        self.assertEqual(out["message"], "Cannot evict pod as it would violate the pod's disruption budget.")
        self.assertEqual(out["details"]["causes"], [{"reason": "DisruptionBudget", "message":
                         "The disruption budget pdb needs 2 healthy pods and has 2 currently"}])
        self.assertEqual(self.req("POST", NS + "/pods/pending/eviction",
                                  dict(ev, metadata={"name": "pending"}))[0], 201)  # Pending ignores PDBs
        self.assertEqual(self.req("POST", NS + "/pods/zz/eviction", dict(ev, metadata={"name": "zz"}))[0], 404)


class TestControlAndScale(Base):
    def test_simulate_kubelet(self):
        self.control("objects", {"generate": {"pods": 3, "nodes": 1}})
        self.ok("POST", NS + "/pods/pod-0/binding", binding("pod-0", "node-0"))
        self.assertEqual(self.control("simulate", {"action": "run"})["changed"], 1)   # only bound pods run
        p = self.ok("GET", NS + "/pods/pod-0")
        self.assertEqual(p["status"]["phase"], "Running")
        self.control("simulate", {"action": "complete", "pods": ["default/pod-0"]})
        self.assertEqual(self.ok("GET", NS + "/pods/pod-0")["status"]["phase"], "Succeeded")
        self.control("simulate", {"auto": {"run_after_ms": 50, "complete_after_ms": 50, "phase": "Failed"}})
        self.ok("POST", NS + "/pods/pod-1/binding", binding("pod-1", "node-0"))
        deadline = time.monotonic() + 5
        while self.ok("GET", NS + "/pods/pod-1")["status"]["phase"] != "Failed" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.ok("GET", NS + "/pods/pod-1")["status"]["phase"], "Failed")

    def test_generated_nodes_carry_zone_and_rack_labels(self):
        self.control("objects", {"generate": {"nodes": 5, "topology": {"nodes_per_rack": 2, "racks_per_zone": 2}}})
        labels = {n["metadata"]["name"]: n["metadata"]["labels"] for n in self.ok("GET", "/api/v1/nodes")["items"]}
        self.assertEqual(labels["node-0"]["topology.example.com/rack"], "rack-0")
        self.assertEqual(labels["node-3"]["topology.example.com/rack"], "rack-1")
        self.assertEqual(labels["node-3"]["topology.kubernetes.io/zone"], "zone-0")
        self.assertEqual(labels["node-4"]["topology.example.com/rack"], "rack-2")
        self.assertEqual(labels["node-4"]["topology.kubernetes.io/zone"], "zone-1")
        selected = self.ok("GET", "/api/v1/nodes?labelSelector=topology.kubernetes.io/zone%3Dzone-0")["items"]
        self.assertEqual(len(selected), 4)

    def test_reset_and_stats(self):
        self.ok("POST", NS + "/pods", pod("r"))
        self.req("GET", NS + "/pods")
        s = self.control("stats", method="GET")
        self.assertGreaterEqual(s["requests"]["by_resource"]["list pods"], 1)
        self.assertEqual(s["objects"]["pods"], 1)
        rv = int(s["resourceVersion"])
        self.control("reset")
        self.assertEqual(self.ok("GET", NS + "/pods")["items"], [])
        self.assertGreaterEqual(int(self.control("stats", method="GET")["resourceVersion"]), rv)

    def test_token_rotation(self):
        self.control("faults", {"token": "new"})
        self.assertEqual(self.req("GET", "/api/v1/pods")[0], 401)
        self.assertEqual(self.req("GET", "/api/v1/pods", token="new")[0], 200)

    def test_100_concurrent_clients(self):
        errors, rvs, lock = [], [], threading.Lock()

        def worker(i):
            c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
            try:
                for j in range(5):
                    st, out = self.req("POST", NS + "/pods", pod(f"c{i}-{j}"), conn=c)
                    st2, _ = self.req("GET", NS + f"/pods/c{i}-{j}", conn=c)
                    with lock:
                        rvs.append(out["metadata"]["resourceVersion"])
                        if (st, st2) != (201, 200):
                            errors.append((st, st2))
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(repr(e))
            finally:
                c.close()
        ts = [threading.Thread(target=worker, args=(i,)) for i in range(100)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(set(rvs)), 500)
        self.assertEqual(len(self.ok("GET", NS + "/pods")["items"]), 500)


class TestProcess(unittest.TestCase):
    def test_cli_port_file_and_tls(self):
        tmp = tempfile.mkdtemp()
        try:
            args = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_apiserver.py"),
                    "--port", "0", "--token", TOKEN, "--port-file", os.path.join(tmp, "port")]
            tls = shutil.which("openssl") is not None
            if tls:
                subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                "-subj", "/CN=127.0.0.1", "-keyout", os.path.join(tmp, "k.pem"),
                                "-out", os.path.join(tmp, "c.pem")], check=True, capture_output=True)
                args += ["--tls-cert", os.path.join(tmp, "c.pem"), "--tls-key", os.path.join(tmp, "k.pem")]
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 10
                while not os.path.exists(os.path.join(tmp, "port")) and time.monotonic() < deadline:
                    time.sleep(0.05)
                with open(os.path.join(tmp, "port")) as f:
                    port = int(f.read())
                if tls:
                    ctx = ssl.create_default_context(cafile=os.path.join(tmp, "c.pem"))
                    ctx.check_hostname = False
                    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
                else:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                c.request("GET", "/api/v1/nodes", headers={"Authorization": f"Bearer {TOKEN}"})
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                self.assertEqual(json.loads(r.read())["kind"], "NodeList")
                c.close()
            finally:
                proc.terminate()
                self.assertEqual(proc.wait(10), 0)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
