#!/usr/bin/env python3
"""A test Kubernetes API server speaking the real wire protocol for a few resources.

Nodes, Pods (+binding, status, eviction), core/v1 and events.k8s.io/v1 Events,
PodDisruptionBudgets (policy/v1), Leases (coordination.k8s.io/v1), Namespaces.
LIST with pagination/selectors, WATCH with bookmarks and 410 expiry, optimistic
concurrency, merge/strategic-merge/JSON patch, bearer auth, optional TLS, and a
fault-injection control API under /_control/ (see README.md).

    python3 fake_apiserver.py --port 0 --token SECRET --port-file /tmp/port
    srv = FakeApiServer(token="SECRET").start(); ...; srv.stop()

Python 3.11 standard library only.
"""
from __future__ import annotations

import argparse
import collections
import copy
import heapq
import itertools
import json
import os
import re
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apimachinery as am  # noqa: E402
from apimachinery import ApiError  # noqa: E402
from admission import Admission  # noqa: E402
import tokenreview  # noqa: E402
from registry import (ADDED, BOOKMARK, ERROR, MODIFIED, DELETED, RESOURCES, RTYPES,  # noqa: E402
                      STORAGE_RT, Api, Store, Watcher, obj_key, set_condition, to_wire)


# ==========================================================================
# Background timers (kubelet emulation, graceful pod deletion)
# ==========================================================================

class Timers:
    def __init__(self):
        self.cond = threading.Condition()
        self.heap, self.seq, self.stopped = [], itertools.count(), False
        self.thread = threading.Thread(target=self._run, name="fake-apiserver-timers", daemon=True)
        self.thread.start()

    def after(self, delay_s, fn):
        with self.cond:
            heapq.heappush(self.heap, (time.monotonic() + max(0.0, delay_s), next(self.seq), fn))
            self.cond.notify()

    def clear(self):
        with self.cond:
            self.heap.clear()

    def stop(self):
        with self.cond:
            self.stopped = True
            self.cond.notify()

    def _run(self):
        while True:
            with self.cond:
                while not self.stopped and (not self.heap or self.heap[0][0] > time.monotonic()):
                    self.cond.wait(None if not self.heap else self.heap[0][0] - time.monotonic())
                if self.stopped:
                    return
                _, _, fn = heapq.heappop(self.heap)
            try:
                fn()
            except Exception as e:  # never let the timer thread die
                print(f"fake-apiserver: timer error: {e!r}", file=sys.stderr)


# ==========================================================================
# Faults and statistics
# ==========================================================================

class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.bind_errors = None      # {"code", "count", "retry_after", "after_commit", "message"}
            self.latency = []            # [{"ms", "regex", "method"}]
            self.fail_rules = []         # [{"regex", "code", "count", "method", "verb", "retry_after", "message"}]
            self.watch_faults = []       # [{"mode": "cut" | "silent", "regex", "count"}]

    def take_watch_fault(self, path):
        """A watch fault for this watch, if one is armed: "cut" sends half an event line and ends the
        stream; "silent" sends the headers and then nothing (no events, no bookmarks) until dropped."""
        with self.lock:
            for r in self.watch_faults:
                if r["count"] > 0 and re.search(r["regex"], path):
                    r["count"] -= 1
                    return r["mode"]
        return None

    def take_bind_error(self):
        with self.lock:
            b = self.bind_errors
            if not b or b.get("count", 0) <= 0:
                return None
            b["count"] -= 1
            return dict(b)

    def give_back_bind_error(self, fault):
        """An after-commit fault whose bind did not commit (409, 404) was not injected: count it again."""
        with self.lock:
            b = self.bind_errors
            if b is not None and b["code"] == fault["code"] and b["after_commit"] == fault["after_commit"]:
                b["count"] += 1

    def match_fail(self, method, path, verb):
        with self.lock:
            for r in self.fail_rules:
                if r["count"] > 0 and re.search(r["regex"], path) and r.get("method") in (None, method) \
                        and r.get("verb") in (None, verb):
                    r["count"] -= 1
                    return dict(r)
        return None

    def latency_for(self, method, path):
        with self.lock:
            return sum(r["ms"] for r in self.latency
                       if re.search(r["regex"], path) and r.get("method") in (None, method)) / 1000.0

    def describe(self):
        with self.lock:
            return {"bind_errors": self.bind_errors, "latency": self.latency,
                    "fail_rules": [r for r in self.fail_rules if r["count"] > 0]}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.binds = collections.defaultdict(lambda: collections.Counter())
        self.bind_nodes = {}
        self.evictions = collections.defaultdict(lambda: collections.Counter())
        self.requests = collections.Counter()
        self.by_verb = collections.Counter()
        self.by_code = collections.Counter()
        self.by_user_agent = collections.defaultdict(collections.Counter)
        self.watch_open = collections.Counter()
        self.watch_total = 0
        self.watch_dropped = 0
        self.connections = collections.Counter()  # by the User-Agent of each connection's first request

    def bind(self, ns, name, what, node=None):
        with self.lock:
            self.binds[f"{ns}/{name}"][what] += 1
            if node:
                self.bind_nodes[f"{ns}/{name}"] = node

    def evict(self, ns, name, what):
        with self.lock:
            self.evictions[f"{ns}/{name}"][what] += 1

    def request(self, verb, res, code, user_agent=None, new_connection=False):
        with self.lock:
            if new_connection:
                self.connections[user_agent or ""] += 1
            self.requests[f"{verb} {res}"] += 1
            self.by_user_agent[user_agent or ""][f"{verb} {res}"] += 1
            self.by_verb[verb] += 1
            self.by_code[str(code)] += 1

    def watch(self, storage, delta):
        with self.lock:
            self.watch_open[storage] += delta
            if delta > 0:
                self.watch_total += 1

    def snapshot(self):
        with self.lock:
            binds = {}
            for k, c in self.binds.items():
                d = {w: c.get(w, 0) for w in ("attempts", "succeeded", "conflicts", "injected_failures", "not_found")}
                d["node"] = self.bind_nodes.get(k)
                binds[k] = d
            return {
                "binds": binds,
                "bind_totals": {w: sum(b[w] for b in binds.values())
                                for w in ("attempts", "succeeded", "conflicts", "injected_failures", "not_found")},
                "evictions": {k: dict(c) for k, c in self.evictions.items()},
                "requests": {"total": sum(self.by_verb.values()), "by_verb": dict(self.by_verb),
                             "by_resource": dict(self.requests), "by_code": dict(self.by_code),
                             "by_user_agent": {ua: dict(c) for ua, c in self.by_user_agent.items()}},
                "watches": {"open": sum(self.watch_open.values()),
                            "open_by_resource": {k: v for k, v in self.watch_open.items() if v},
                            "total": self.watch_total, "dropped": self.watch_dropped},
                "connections": {"total": sum(self.connections.values()), "by_user_agent": dict(self.connections)},
            }


# ==========================================================================
# HTTP layer
# ==========================================================================

class _Dropped(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube-apiserver/1.0"
    # TCP_NODELAY, as Go's net/http (the real API server) has by default: a response's
    # headers and body go out as two writes, and with Nagle the body waits for the
    # client's delayed ACK of the headers (~40 ms on Linux) on every kept-alive request.
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    app: "FakeApiServer" = property(lambda self: self.server.app)

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            sys.stderr.write("fake-apiserver: " + (fmt % args) + "\n")

    def setup(self):
        super().setup()
        self.server.app._conns.add(self.connection)

    def finish(self):
        self.server.app._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    do_GET = lambda self: self._dispatch("GET")      # noqa: E731
    do_POST = lambda self: self._dispatch("POST")    # noqa: E731
    do_PUT = lambda self: self._dispatch("PUT")      # noqa: E731
    do_PATCH = lambda self: self._dispatch("PATCH")  # noqa: E731
    do_DELETE = lambda self: self._dispatch("DELETE")  # noqa: E731

    # -- plumbing ---------------------------------------------------------
    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, code, obj, headers=None, ctype="application/json"):
        data = obj if isinstance(obj, bytes) else (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self._code = code

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    # -- dispatch ---------------------------------------------------------
    def _dispatch(self, method):
        self._code = 0
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        verb, res = method.lower(), "unknown"
        try:
            body = self._read_body()
            if path.startswith("/_control/"):
                verb, res = "control", path
                return self._send(*self.app.control(method, path, q, body))
            if path in ("/healthz", "/livez", "/readyz"):
                verb, res = "get", path
                return self._send(200, b"ok", ctype="text/plain; charset=utf-8")
            if path == "/version":
                verb, res = "get", path
                return self._send(200, self.app.version_info())
            token = self.app.token
            if token is not None:
                auth = self.headers.get("Authorization") or ""
                scheme, _, cred = auth.partition(" ")
                if scheme.lower() != "bearer" or cred.strip() != token:
                    raise ApiError(401, "Unauthorized", "Unauthorized")
            self.app.set_user(self.headers)
            if path.rstrip("/") == tokenreview.PATH:
                verb, res = ("create" if method == "POST" else method.lower()), "tokenreviews"
                rule = self.app.faults.match_fail(method, path, verb)
                if rule:
                    raise am.err_generic(rule["code"], rule.get("message"), rule.get("retry_after"))
                if method != "POST":
                    raise am.err_method_not_allowed()
                return self._send(*self.app.token_reviews.review(body, self.app.token))
            route = self._route(path, q)
            if route is None:
                disc = self.app.discovery(path)
                if disc is None or method != "GET":
                    raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
                verb, res = "get", path
                return self._send(200, disc)
            rt, ns, name, sub, watch = route
            verb = self._verb(method, name, sub, watch)
            res = rt.plural + (f"/{sub}" if sub else "")
            delay = self.app.faults.latency_for(method, path)
            if delay:
                time.sleep(delay)
            rule = self.app.faults.match_fail(method, path, verb)
            if rule:
                raise am.err_generic(rule["code"], rule.get("message"), rule.get("retry_after"))
            if watch:
                return self._watch(rt, ns, name, q)
            self._send(*self._call(method, rt, ns, name, sub, q, body))
        except ApiError as e:
            h = dict(e.headers)
            if e.code == 429 and "Retry-After" not in h and e.details and e.details.get("retryAfterSeconds"):
                h["Retry-After"] = str(e.details["retryAfterSeconds"])
            self._send(e.code, e.body(), h)
        except _Dropped:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a bug in the fake: answer like the apiserver would
            import traceback
            traceback.print_exc()
            try:
                self._send(500, am.err_internal(repr(e)).body())
            except OSError:
                self.close_connection = True
        finally:
            first = not getattr(self, "_counted_connection", False)
            self._counted_connection = True  # one handler per connection: its first request opened it
            self.app.stats.request(verb, res, self._code, self.headers.get("User-Agent"), new_connection=first)

    @staticmethod
    def _verb(method, name, sub, watch):
        if watch:
            return "watch"
        if method == "GET":
            return "get" if name else "list"
        if method == "DELETE" and not name:
            return "deletecollection"
        return {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]

    def _route(self, path, q):
        """-> (rtype, namespace, name, subresource, is_watch) or None."""
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        watch = False
        if rest and rest[0] == "watch":
            watch, rest = True, rest[1:]
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces" and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize")):
            ns, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            return None
        if group == "" and ns is not None and rest == ["bindings"]:
            return (STORAGE_RT["pods"], ns, None, "binding", False)
        rt = RTYPES.get((group, version, rest[0]))
        if rt is None or (ns is not None and not rt.namespaced) or (ns is None and rt.namespaced and len(rest) > 1):
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        allowed_subs = ({"status", "binding", "eviction"} if rt.plural == "pods"
                        else {"status"} if rt.status_sub else set())
        if sub is not None and sub not in allowed_subs:
            return None
        if not watch and self.command == "GET" and name is None and am.parse_bool(q.get("watch", "")):
            watch = True
        if watch and sub is not None:
            return None
        return rt, ns, name, sub, watch

    def _call(self, method, rt, ns, name, sub, q, body):
        api = self.app.api
        if rt.namespaced and ns is None and method != "GET":
            raise am.err_method_not_allowed()   # writes need the namespaced path
        if method != "GET" and q.get("dryRun"):
            raise am.err_bad_request("dryRun is not supported by this fake apiserver")
        if method == "GET":
            if name is None:
                return api.list(rt, ns, q)
            return api.get(rt, ns, name, q)
        if method == "POST":
            if sub == "binding":
                return api.bind(ns, name, body)
            if sub == "eviction":
                return api.evict(ns, name, body)
            if name is None:
                return api.create(rt, ns, body)
        if method == "PUT" and name is not None and sub in (None, "status"):
            return api.update(rt, ns, name, sub, body)
        if method == "PATCH" and name is not None and sub in (None, "status"):
            return api.patch(rt, ns, name, sub, body, self.headers.get("Content-Type"))
        if method == "DELETE" and sub is None:
            return api.delete(rt, ns, name, q, body) if name else api.delete_collection(rt, ns, q)
        raise am.err_method_not_allowed()

    # -- WATCH ------------------------------------------------------------
    def _watch(self, rt, ns, name, q):
        app, store, api = self.app, self.app.store, self.app.api
        lsel, fsel = api._selectors(rt, q)
        rv = q.get("resourceVersion", "")
        allow_bm = am.parse_bool(q.get("allowWatchBookmarks", ""))
        send_initial = q.get("sendInitialEvents")
        if send_initial is not None and send_initial != "":
            send_initial = am.parse_bool(send_initial)
            if q.get("resourceVersionMatch") != "NotOlderThan" or (send_initial and not allow_bm):
                raise am.err_invalid("ListOptions", "meta.k8s.io", "", [(
                    "FieldValueForbidden", "sendInitialEvents",
                    "Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to "
                    "NotOlderThan and allowWatchBookmarks is set to true")])
        else:
            send_initial = rv in ("", "0")
        try:
            timeout = float(q["timeoutSeconds"]) if q.get("timeoutSeconds") else app.default_watch_timeout
        except ValueError:
            raise am.err_bad_request(f"invalid timeoutSeconds: {q.get('timeoutSeconds')!r}")
        start_rv = None if rv in ("", "0") else api._parse_rv(rv)
        if start_rv is not None and start_rv > store.rv:
            api._wait_rv(start_rv)
        if start_rv is None:
            start_rv = store.rv   # only reached with sendInitialEvents=false: start "now"
        w = Watcher(rt, ns, lsel, fsel, name)
        w.sock = self.connection
        expired = None
        with store.lock:
            if send_initial:
                objs = store.objects[rt.storage]
                for k in store.sorted_keys(rt.storage):
                    if w.matches(objs[k]):
                        w.q.append((ADDED, objs[k], None))
                if am.parse_bool(q.get("sendInitialEvents", "")):
                    w.q.append((BOOKMARK, store.rv, "initial-events-end"))
            elif start_rv < store.floor:
                expired = f"too old resource version: {start_rv} ({store.floor})"
            else:
                for ev in store.history:
                    if ev.rv > start_rv and ev.storage == rt.storage:
                        w.offer(ev)
            if expired is None:
                store.watchers[rt.storage].add(w)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._code = 200
        if expired is not None:
            self._chunk(self._event_bytes(rt, (ERROR, am.err_expired(expired).body(), None)))
            self.wfile.write(b"0\r\n\r\n")
            return
        fault = app.faults.take_watch_fault(self.path)
        if fault == "cut":
            self._chunk(self._event_bytes(rt, (BOOKMARK, store.rv, None))[:20])
            self.wfile.write(b"0\r\n\r\n")
            return
        app._watchers.add(w)
        app.stats.watch(rt.storage, +1)
        try:
            deadline = time.monotonic() + timeout
            if fault == "silent":
                while not w.dropped and not self._peer_closed():
                    w.take(0.05)
                raise _Dropped()
            next_bm = time.monotonic() + app.bookmark_interval
            while True:
                now = time.monotonic()
                wait = min(deadline - now, (next_bm - now) if allow_bm else 1.0, 1.0)
                items = w.take(wait)
                if w.dropped:
                    raise _Dropped()
                for it in items:
                    self._chunk(self._event_bytes(rt, it))
                now = time.monotonic()
                final = now >= deadline
                if allow_bm and (now >= next_bm or final):
                    with store.lock:
                        with w.cond:
                            empty = not w.q
                        cur = store.rv
                    if empty:
                        self._chunk(self._event_bytes(rt, (BOOKMARK, cur, None)))
                        next_bm = now + app.bookmark_interval
                if final:
                    self.wfile.write(b"0\r\n\r\n")
                    return
                if not items and self._peer_closed():
                    raise _Dropped()
        except (_Dropped, OSError):
            with app.stats.lock:
                app.stats.watch_dropped += 1 if w.dropped else 0
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise _Dropped()
        finally:
            with store.lock:
                store.watchers[rt.storage].discard(w)
            app._watchers.discard(w)
            app.stats.watch(rt.storage, -1)

    def _peer_closed(self):
        sock = self.connection
        if isinstance(sock, ssl.SSLSocket):
            return False
        try:
            r, _, _ = select.select([sock], [], [], 0)
            return bool(r) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    @staticmethod
    def _event_bytes(rt, item):
        etype, obj, ev = item[0], item[1], item[2]
        if etype == BOOKMARK:
            md = {"resourceVersion": str(obj), "creationTimestamp": None}
            if ev == "initial-events-end":
                md["annotations"] = {"k8s.io/initial-events-end": "true"}
            o = {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": md}
            return json.dumps({"type": BOOKMARK, "object": o}, separators=(",", ":")).encode() + b"\n"
        if ev is not None:
            ck = (etype, id(obj), rt.api_version)
            data = ev.cache.get(ck)
            if data is None:
                data = ev.cache[ck] = json.dumps({"type": etype, "object": to_wire(rt, obj)},
                                                 separators=(",", ":")).encode() + b"\n"
            return data
        o = obj if etype == ERROR else to_wire(rt, obj)
        return json.dumps({"type": etype, "object": o}, separators=(",", ":")).encode() + b"\n"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (OSError, ssl.SSLError)):
            super().handle_error(request, client_address)


# ==========================================================================
# The server object
# ==========================================================================

class FakeApiServer:
    def __init__(self, host="127.0.0.1", port=0, token=None, tls_cert=None, tls_key=None,
                 history_size=1000, bookmark_interval=1.0, continue_ttl=300.0,
                 default_watch_timeout=1800.0, too_large_wait=3.0, verbose=False, token_users=None):
        self.host, self.req_port, self.initial_token, self.token = host, port, token, token
        self.tls_cert, self.tls_key, self.verbose = tls_cert, tls_key, verbose
        self.bookmark_interval, self.default_watch_timeout = bookmark_interval, default_watch_timeout
        self.too_large_wait = too_large_wait
        self.initial_history_size = history_size
        self.store = Store(history_size, continue_ttl)
        self.api = Api(self)
        self.faults, self.stats = Faults(), Stats()
        self.timers = Timers()
        self.pod_grace_delay = None          # seconds; None = pods are deleted immediately
        self.kubelet = None                  # {"run_after_ms", "complete_after_ms", "phase"}
        self._watchers, self._conns = set(), set()
        self._ip_counter = itertools.count(2)
        self.httpd, self.thread = None, None
        self.admission = Admission(self)
        self.webhook_endpoints = {}          # "namespace/service" -> (host, port): where Services' webhooks listen
        self._user = threading.local()
        self.token_reviews = tokenreview.TokenReviews(token_users)  # TokenReview's token -> user table

    # -- lifecycle --------------------------------------------------------
    def start(self):
        self.httpd = _HTTPServer((self.host, self.req_port), Handler)
        self.httpd.app = self
        if self.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.tls_cert, self.tls_key)
            # handshake lazily in the connection's own thread, not in accept()
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="fake-apiserver", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.drop_watches()
            for c in list(self._conns):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.httpd.server_close()
            self.httpd = None
        self.timers.stop()

    @property
    def port(self):
        return self.httpd.server_address[1]

    @property
    def url(self):
        return f"{'https' if self.tls_cert else 'http'}://{self.host}:{self.port}"

    def drop_watches(self):
        ws = list(self._watchers)
        for w in ws:
            w.drop()
        return len(ws)

    # -- kubelet emulation ------------------------------------------------
    def kubelet_on_bound(self, pod):
        k = self.kubelet
        if k and k.get("run_after_ms") is not None and (pod.get("spec") or {}).get("nodeName") \
                and (pod.get("status") or {}).get("phase") == "Pending":
            key, uid = obj_key(pod["metadata"]["namespace"], pod["metadata"]["name"]), pod["metadata"]["uid"]
            self.timers.after(k["run_after_ms"] / 1000.0, lambda: self._kubelet_step(key, uid, "run"))

    def _kubelet_step(self, key, uid, action, phase=None):
        with self.store.lock:
            pod = self.store.objects["pods"].get(key)
            if pod is None or pod["metadata"]["uid"] != uid:
                return False
            new = self.pod_transition(pod, action, phase or (self.kubelet or {}).get("phase", "Succeeded"))
            if new is None:
                return False
            self.store.commit("pods", MODIFIED, key, new, pod)
        k = self.kubelet
        if action == "run" and k and k.get("complete_after_ms") is not None:
            self.timers.after(k["complete_after_ms"] / 1000.0, lambda: self._kubelet_step(key, uid, "complete"))
        return True

    def pod_transition(self, pod, action, phase="Succeeded"):
        st = (pod.get("status") or {}).get("phase")
        if pod["metadata"].get("deletionTimestamp") or not pod["spec"].get("nodeName"):
            return None
        new = copy.deepcopy(pod)
        s = new.setdefault("status", {})
        now = am.now_rfc3339()
        conts = new["spec"].get("containers") or []
        if action == "run":
            if st != "Pending":
                return None
            n = next(self._ip_counter)
            s.update(phase="Running", startTime=s.get("startTime") or now, hostIP="10.0.0.1",
                     podIP=f"10.244.{(n >> 8) & 255}.{n & 255}")
            s["podIPs"] = [{"ip": s["podIP"]}]
            for c in ("Initialized", "Ready", "ContainersReady", "PodScheduled"):
                set_condition(s, c, "True")
            s["containerStatuses"] = [{"name": c.get("name"), "state": {"running": {"startedAt": now}},
                                       "lastState": {}, "ready": True, "restartCount": 0, "image": c.get("image"),
                                       "imageID": "", "containerID": f"containerd://{uuid.uuid4().hex}",
                                       "started": True} for c in conts]
        else:
            if st not in ("Running", "Pending"):
                return None
            ok = phase == "Succeeded"
            s["phase"] = phase
            for c in ("Ready", "ContainersReady"):
                set_condition(s, c, "False", reason="PodCompleted" if ok else "PodFailed")
            s["containerStatuses"] = [{"name": c.get("name"), "ready": False, "restartCount": 0,
                                       "image": c.get("image"), "imageID": "", "started": False,
                                       "state": {"terminated": {"exitCode": 0 if ok else 1,
                                                                "reason": "Completed" if ok else "Error",
                                                                "startedAt": s.get("startTime") or now,
                                                                "finishedAt": now}},
                                       "lastState": {}} for c in conts]
        return new

    def finish_pod_delete(self, key, uid):
        with self.store.lock:
            pod = self.store.objects["pods"].get(key)
            if pod is not None and pod["metadata"]["uid"] == uid and not pod["metadata"].get("finalizers"):
                self.store.commit("pods", DELETED, key, None, pod)

    # -- discovery ----------------------------------------------------------
    def version_info(self):
        return {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake", "gitCommit": "0" * 40,
                "gitTreeState": "clean", "buildDate": "2024-01-01T00:00:00Z", "goVersion": "go1.22.0",
                "compiler": "gc", "platform": "linux/amd64"}

    def discovery(self, path):
        path = path.rstrip("/")
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{self.host}:{self.port}"}]}
        groups = sorted({(r.group, r.version) for r in RESOURCES if r.group} | {("authentication.k8s.io", "v1")})
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                 "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v}} for g, v in groups]}
        for g, v in [("", "v1")] + groups:
            if path == (f"/apis/{g}/{v}" if g else "/api/v1"):
                res = []
                verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
                for r in RESOURCES:
                    if (r.group, r.version) != (g, v):
                        continue
                    res.append({"name": r.plural, "singularName": r.kind.lower(), "namespaced": r.namespaced,
                                "kind": r.kind, "verbs": verbs})
                    if r.status_sub:
                        res.append({"name": f"{r.plural}/status", "singularName": "", "namespaced": r.namespaced,
                                    "kind": r.kind, "verbs": ["get", "patch", "update"]})
                    if r.plural == "pods":
                        res.append({"name": "pods/binding", "singularName": "", "namespaced": True,
                                    "kind": "Binding", "verbs": ["create"]})
                        res.append({"name": "pods/eviction", "singularName": "", "namespaced": True,
                                    "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]})
                if g == "authentication.k8s.io":
                    res.append({"name": "tokenreviews", "singularName": "tokenreview", "namespaced": False,
                                "kind": "TokenReview", "verbs": ["create"]})
                return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{g}/{v}" if g else "v1",
                        "resources": res}
        return None

    # -- control API --------------------------------------------------------
    def current_user(self):
        """userInfo of the request being served (Impersonate-User/-Group headers; default system:admin)."""
        return getattr(self._user, "info", None) or {"username": "system:admin",
                                                     "groups": ["system:masters", "system:authenticated"]}

    def set_user(self, headers):
        user = headers.get("Impersonate-User")
        groups = headers.get_all("Impersonate-Group") or []
        self._user.info = {"username": user, "groups": groups + ["system:authenticated"]} if user else None

    def control(self, method, path, q, body):
        try:
            req = json.loads(body) if body and body.strip() else {}
        except ValueError as e:
            raise am.err_bad_request(f"control: bad JSON: {e}")
        if not isinstance(req, dict):
            raise am.err_bad_request("control: body must be a JSON object")
        if path == "/_control/faults" and method == "GET":
            return 200, self.faults.describe()
        if path == "/_control/faults" and method == "POST":
            return 200, self._apply_faults(req)
        if path == "/_control/reset" and method == "POST":
            return 200, self.reset()
        if path == "/_control/stats" and method == "GET":
            out = self.stats.snapshot()
            with self.store.lock:
                out["resourceVersion"] = str(self.store.rv)
                out["objects"] = {k: len(v) for k, v in self.store.objects.items()}
                out["history"] = {"size": len(self.store.history), "max": self.store.history_size,
                                  "oldest_servable_rv": str(self.store.floor),
                                  "compacted_rv": str(self.store.compact_rv)}
            if am.parse_bool(q.get("reset", "")):
                with self.stats.lock:
                    self.stats.reset()
            return 200, out
        if path == "/_control/objects" and method == "POST":
            return 200, self._seed(req)
        if path == "/_control/simulate" and method == "POST":
            return 200, self._simulate(req)
        if path == "/_control/manifest" and method == "POST":
            # {"path": "deploy/40-webhook.yaml"}: creates the objects of a YAML manifest whose kinds this
            # server serves (others, e.g. Service, are skipped and counted).
            return 200, self._apply_manifest(req.get("path"))
        if path == "/_control/tokens" and method == "POST":
            return 200, self.token_reviews.configure(req)
        if path == "/_control/webhook-endpoints" and method == "POST":
            # {"service": "ns/name", "host": "127.0.0.1", "port": 9443}: where a webhook Service's endpoints are
            if not isinstance(req.get("service"), str) or not isinstance(req.get("port"), int):
                raise am.err_bad_request("control: webhook-endpoints needs service (ns/name) and port")
            self.webhook_endpoints[req["service"]] = (req.get("host") or "127.0.0.1", req["port"])
            return 200, {"webhook_endpoints": {k: f"{h}:{p}" for k, (h, p) in self.webhook_endpoints.items()}}
        raise ApiError(404, "NotFound", f"unknown control path {method} {path}", {})

    def reset(self):
        dropped = self.drop_watches()
        self.timers.clear()
        with self.store.lock:
            st = self.store
            st.objects.clear()
            st._sorted.clear()
            st.history.clear()
            st.snapshots.clear()
            st.history_size = self.initial_history_size
            st.floor = st.compact_rv = st.rv
        self.faults.reset()
        self.token_reviews.reset()
        with self.stats.lock:
            self.stats.reset()
        self.token, self.pod_grace_delay, self.kubelet = self.initial_token, None, None
        return {"ok": True, "dropped_watches": dropped, "resourceVersion": str(self.store.rv)}

    def _apply_faults(self, req):
        out = {"ok": True}
        f = self.faults
        known = {"clear", "drop_watches", "compact", "expire_before_rv", "bind_errors", "latency_ms", "paths",
                 "methods", "latency", "fail_next", "token", "bookmark_interval_s", "history_size",
                 "pod_grace_delay_s", "default_watch_timeout_s", "watch_faults"}
        unknown = set(req) - known
        if unknown:
            raise am.err_bad_request(f"control: unknown fault keys {sorted(unknown)}")
        if req.get("clear"):
            f.reset()
        if "bind_errors" in req:
            b = req["bind_errors"]
            with f.lock:
                f.bind_errors = None if not b else {"code": int(b.get("code", 500)), "count": int(b.get("count", 1)),
                                                     "retry_after": b.get("retry_after", 1 if int(b.get("code", 500)) == 429 else None),
                                                     "after_commit": bool(b.get("after_commit")),
                                                     "message": b.get("message")}
        lat = req.get("latency")
        if "latency_ms" in req:
            lat = [{"ms": req["latency_ms"], "path_regex": req.get("paths") or "", "method": req.get("methods")}]
        if lat is not None:
            with f.lock:
                f.latency = [{"ms": float(x.get("ms", 0)), "regex": x.get("path_regex") or "",
                              "method": x.get("method")} for x in lat if float(x.get("ms", 0)) > 0]
        if "fail_next" in req:
            rules = req["fail_next"]
            for r in (rules if isinstance(rules, list) else [rules] if rules else []):
                code = int(r.get("code", 500))
                with f.lock:
                    f.fail_rules.append({"regex": r.get("path_regex") or "", "code": code,
                                         "count": int(r.get("count", 1)), "method": r.get("method"),
                                         "verb": r.get("verb"), "message": r.get("message"),
                                         "retry_after": r.get("retry_after", 1 if code == 429 else None)})
            if not rules:
                with f.lock:
                    f.fail_rules = []
        if "watch_faults" in req:
            rules = req["watch_faults"]
            with f.lock:
                f.watch_faults = [{"mode": r["mode"], "regex": r.get("path_regex") or "", "count": int(r.get("count", 1))}
                                  for r in (rules if isinstance(rules, list) else [rules] if rules else [])]
                bad = [r["mode"] for r in f.watch_faults if r["mode"] not in ("cut", "silent")]
            if bad:
                raise am.err_bad_request(f"control: unknown watch fault modes {bad}")
        if "token" in req:
            self.token = req["token"]
        if "bookmark_interval_s" in req:
            self.bookmark_interval = float(req["bookmark_interval_s"])
        if "default_watch_timeout_s" in req:
            self.default_watch_timeout = float(req["default_watch_timeout_s"])
        if "pod_grace_delay_s" in req:
            v = req["pod_grace_delay_s"]
            self.pod_grace_delay = None if v is None else float(v)
        if "history_size" in req:
            self.store.set_history_size(req["history_size"])
        if req.get("compact"):
            self.store.compact()
        if req.get("expire_before_rv") is not None:
            self.store.compact(int(req["expire_before_rv"]))
        if req.get("drop_watches"):
            n = self.drop_watches()
            with self.stats.lock:
                self.stats.watch_dropped += 0  # counted by the watch threads
            out["dropped_watches"] = n
        out["resourceVersion"] = str(self.store.rv)
        out["faults"] = self.faults.describe()
        return out

    def _seed(self, req):
        """Bulk-create objects. Pods keep the status given (e.g. Running), unlike the API."""
        created = existing = 0
        objs = list(req.get("objects") or [])
        gen = req.get("generate") or {}
        ns = gen.get("namespace", "default")
        node_tpl = gen.get("node_template") or {
            "metadata": {"labels": {}},
            "spec": {},
            "status": {"capacity": {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": "8", "pods": "110"},
                       "allocatable": {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": "8", "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "lastHeartbeatTime": am.now_rfc3339(), "lastTransitionTime": am.now_rfc3339()}]}}
        pod_tpl = gen.get("pod_template") or {
            "metadata": {"labels": {}},
            "spec": {"schedulerName": gen.get("scheduler_name", "default-scheduler"),
                     "containers": [{"name": "main", "image": "busybox:1.36",
                                     "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}
        for i in range(int(gen.get("nodes", 0))):
            n = copy.deepcopy(node_tpl)
            n.update(apiVersion="v1", kind="Node")
            n["metadata"]["name"] = f"{gen.get('node_prefix', 'node-')}{i}"
            labels = n["metadata"].setdefault("labels", {})
            labels["kubernetes.io/hostname"] = n["metadata"]["name"]
            topo = gen.get("topology")
            if topo:  # zones of racks of nodes, in name order: node i in rack i // nodes_per_rack
                rack = i // max(1, int(topo.get("nodes_per_rack", 4)))
                zone = rack // max(1, int(topo.get("racks_per_zone", 2)))
                labels[topo.get("zone_label", "topology.kubernetes.io/zone")] = f"zone-{zone}"
                labels[topo.get("rack_label", "topology.example.com/rack")] = f"rack-{rack}"
            objs.append(n)
        for i in range(int(gen.get("pods", 0))):
            p = copy.deepcopy(pod_tpl)
            p.update(apiVersion="v1", kind="Pod")
            p["metadata"].update(name=f"{gen.get('pod_prefix', 'pod-')}{i}", namespace=ns)
            objs.append(p)
        by_kind = {(r.api_version, r.kind): r for r in RESOURCES}
        for o in objs:
            rt = by_kind.get((o.get("apiVersion"), o.get("kind")))
            if rt is None:
                raise am.err_bad_request(f"control: unsupported object kind {o.get('apiVersion')}/{o.get('kind')}")
            try:
                self.api.create(rt, (o.get("metadata") or {}).get("namespace") or "default", o, seed=True)
                created += 1
            except ApiError as e:
                if e.reason != "AlreadyExists":
                    raise
                existing += 1
        return {"created": created, "existing": existing, "resourceVersion": str(self.store.rv)}

    def _apply_manifest(self, path):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy"))
        import mini_yaml  # tests/deploy/mini_yaml.py: the same stdlib reader the manifest checks use
        try:
            with open(path, encoding="utf-8") as fh:
                docs = [d for d in mini_yaml.load_all(fh.read(), path) if isinstance(d, dict)]
        except (OSError, TypeError, mini_yaml.YamlError) as e:
            raise am.err_bad_request(f"control: manifest {path!r}: {e}")
        served = {(r.api_version, r.kind) for r in RESOURCES}
        objs = [d for d in docs if (d.get("apiVersion"), d.get("kind")) in served]
        out = self._seed({"objects": objs})
        out["skipped"] = len(docs) - len(objs)
        return out

    def _simulate(self, req):
        if "auto" in req:
            a = req["auto"]
            self.kubelet = None if not a else {"run_after_ms": a.get("run_after_ms", 0),
                                               "complete_after_ms": a.get("complete_after_ms"),
                                               "phase": a.get("phase", "Succeeded")}
        action = req.get("action")
        changed = 0
        if action:
            if action not in ("run", "complete", "fail"):
                raise am.err_bad_request("control: action must be run, complete or fail")
            phase = "Failed" if action == "fail" else req.get("phase", "Succeeded")
            with self.store.lock:
                keys = req.get("pods") or list(self.store.sorted_keys("pods"))
                for key in keys:
                    pod = self.store.objects["pods"].get(key)
                    if pod is None:
                        continue
                    new = self.pod_transition(pod, "run" if action == "run" else "complete", phase)
                    if new is not None:
                        self.store.commit("pods", MODIFIED, key, new, pod)
                        changed += 1
        return {"changed": changed, "resourceVersion": str(self.store.rv), "auto": self.kubelet}


# ==========================================================================
# CLI
# ==========================================================================

def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake Kubernetes API server for integration tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--port-file", help="write the chosen port here (atomically)")
    ap.add_argument("--token", help="required bearer token (omit to disable auth)")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--history-size", type=int, default=1000, help="watch event history length")
    ap.add_argument("--bookmark-interval", type=float, default=1.0, help="seconds between BOOKMARK events")
    ap.add_argument("--continue-ttl", type=float, default=300.0, help="seconds a continue snapshot is kept")
    ap.add_argument("--watch-timeout", type=float, default=1800.0, help="watch timeout when timeoutSeconds unset")
    ap.add_argument("--token-users", help="JSON file of TokenReview's table: {token: {username, uid, groups, audiences}}")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    token_users = None
    if a.token_users:
        with open(a.token_users, encoding="utf-8") as f:
            token_users = json.load(f)
        try:
            tokenreview.check_table(token_users)
        except ApiError as e:
            ap.error(f"--token-users {a.token_users}: {e.body()['message']}")
    if bool(a.tls_cert) != bool(a.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    srv = FakeApiServer(a.host, a.port, a.token, a.tls_cert, a.tls_key, a.history_size, a.bookmark_interval,
                        a.continue_ttl, a.watch_timeout, verbose=a.verbose, token_users=token_users).start()
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{srv.port}\n")
        os.replace(tmp, a.port_file)
    print(f"fake-apiserver listening on {srv.url}", flush=True)
    stop = threading.Event()
    import signal
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
