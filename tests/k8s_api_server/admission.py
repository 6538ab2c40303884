"""Admission webhooks as the API server calls them on pod CREATE (standard library only).

Mutating webhooks first (configurations by name, webhooks in order), the JSON patch
of each applied before the next; then validating webhooks. For each webhook:
rules (operation CREATE, pods), namespaceSelector (on the namespace's labels plus
kubernetes.io/metadata.name), objectSelector, matchConditions (CEL, with the
bounded evaluator below), then an HTTPS POST of an admission.k8s.io/v1
AdmissionReview to clientConfig.url or clientConfig.service (resolved through
FakeApiServer.webhook_endpoints, verified against caBundle for the name
"<service>.<namespace>.svc", as the real API server does), within timeoutSeconds
(default 10). A call that fails, or a matchCondition that errors, follows
failurePolicy (Fail by default): Fail refuses the pod (500), Ignore skips the
webhook. A webhook that denies refuses the pod with its status.code (default 403)
and the message the real API server gives:
    admission webhook "validate.drover.io" denied the request: <message>
Warnings come back as Warning headers.

CEL: there is no CEL library in Debian. `Cel` evaluates only this subset, and
raises CelUnsupported for anything else (never a silent true):
    literals 'str' "str" true false; identifiers object, request (and macro variables);
    field selection a.b; has(a.b); x in map_or_list; == and != ; ! && || ( );
    list.exists(v, expr) and list.all(v, expr).
"""
from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import ssl
import uuid

import apimachinery as am

MAX_EXPRESSION = 4096
MAX_DEPTH = 32


class CelUnsupported(Exception):
    """An expression outside the subset this evaluator implements."""


class CelError(Exception):
    """A runtime error of a supported expression (a missing field, a type mismatch)."""


_TOKEN = re.compile(r"\s*(?:(\|\||&&|==|!=|[!().,])|('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|([A-Za-z_][A-Za-z0-9_]*))")
_MISSING = object()


class Cel:
    """Parses and evaluates one expression of the subset (module docstring)."""

    def __init__(self, text):
        if len(text) > MAX_EXPRESSION:
            raise CelUnsupported(f"expression longer than {MAX_EXPRESSION} characters")
        self.toks, pos, text = [], 0, text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise CelUnsupported(f"unsupported CEL at {pos}: {text[pos:pos + 20]!r}")
            op, lit, ident = m.groups()
            self.toks.append(("op", op) if op else ("str", lit[1:-1]) if lit else ("id", ident))
            pos = m.end()
        self.i = 0
        self.ast = self._or(0)
        if self.i != len(self.toks):
            raise CelUnsupported(f"unsupported CEL: unexpected {self.toks[self.i][1]!r}")

    # -- parser ------------------------------------------------------------
    def _peek(self, *want):
        return self.i < len(self.toks) and self.toks[self.i][1] in want and self.toks[self.i][0] in ("op", "id")

    def _take(self, want):
        if not self._peek(want):
            got = self.toks[self.i][1] if self.i < len(self.toks) else "end"
            raise CelUnsupported(f"unsupported CEL: expected {want!r}, got {got!r}")
        self.i += 1

    def _or(self, d):
        if d > MAX_DEPTH:
            raise CelUnsupported("expression nested too deep")
        node = self._and(d)
        while self._peek("||"):
            self.i += 1
            node = ("or", node, self._and(d))
        return node

    def _and(self, d):
        node = self._unary(d)
        while self._peek("&&"):
            self.i += 1
            node = ("and", node, self._unary(d))
        return node

    def _unary(self, d):
        if self._peek("!"):
            self.i += 1
            return ("not", self._unary(d + 1))
        left = self._primary(d)
        for op in ("==", "!=", "in"):
            if self._peek(op):
                self.i += 1
                return (op, left, self._primary(d))
        return left

    def _primary(self, d):
        if self.i >= len(self.toks):
            raise CelUnsupported("unsupported CEL: unexpected end")
        kind, val = self.toks[self.i]
        if kind == "op" and val == "(":
            self.i += 1
            node = self._or(d + 1)
            self._take(")")
            return node
        if kind == "str":
            self.i += 1
            return ("lit", val)
        if kind == "id" and val in ("true", "false"):
            self.i += 1
            return ("lit", val == "true")
        if kind == "id" and val == "has":
            self.i += 1
            self._take("(")
            node = self._select(d)
            self._take(")")
            if node[0] != "field":
                raise CelUnsupported("has() needs a field selection")
            return ("has", node)
        if kind == "id" and val not in ("in",):
            return self._select(d)
        raise CelUnsupported(f"unsupported CEL: {val!r}")

    def _select(self, d):
        kind, val = self.toks[self.i]
        if kind != "id":
            raise CelUnsupported(f"unsupported CEL: {val!r}")
        self.i += 1
        node = ("var", val)
        while self._peek("."):
            self.i += 1
            kind, name = self.toks[self.i] if self.i < len(self.toks) else ("", "")
            if kind != "id":
                raise CelUnsupported("unsupported CEL: a field name after '.'")
            self.i += 1
            if self._peek("("):
                if name not in ("exists", "all"):
                    raise CelUnsupported(f"unsupported CEL function {name!r}")
                self.i += 1
                var = self.toks[self.i][1] if self.i < len(self.toks) and self.toks[self.i][0] == "id" else None
                if var is None:
                    raise CelUnsupported(f"{name}() needs a variable name")
                self.i += 1
                self._take(",")
                body = self._or(d + 1)
                self._take(")")
                node = (name, node, var, body)
            else:
                node = ("field", node, name)
        return node

    # -- evaluator ---------------------------------------------------------
    def evaluate(self, env):
        v = self._eval(self.ast, dict(env))
        if not isinstance(v, bool):
            raise CelError("the expression does not evaluate to a bool")
        return v

    def _eval(self, n, env):
        op = n[0]
        if op == "lit":
            return n[1]
        if op == "var":
            if n[1] not in env:
                raise CelError(f"undeclared reference to {n[1]!r}")
            return env[n[1]]
        if op == "field":
            base = self._eval(n[1], env)
            if not isinstance(base, dict) or n[2] not in base:
                raise CelError(f"no such key: {n[2]}")
            return base[n[2]]
        if op == "has":
            base = self._eval(n[1][1], env)
            if not isinstance(base, dict):
                raise CelError("has() on a non-map")
            return n[1][2] in base and base[n[1][2]] is not None
        if op == "not":
            return not self._bool(self._eval(n[1], env))
        if op == "or":  # CEL's commutative error absorption is not needed for the shipped expressions
            return self._bool(self._eval(n[1], env)) or self._bool(self._eval(n[2], env))
        if op == "and":
            return self._bool(self._eval(n[1], env)) and self._bool(self._eval(n[2], env))
        if op in ("==", "!="):
            a, b = self._eval(n[1], env), self._eval(n[2], env)
            return (a == b) if op == "==" else (a != b)
        if op == "in":
            a, b = self._eval(n[1], env), self._eval(n[2], env)
            if not isinstance(b, (dict, list)):
                raise CelError("'in' needs a map or a list")
            return a in b
        if op in ("exists", "all"):
            items = self._eval(n[1], env)
            if not isinstance(items, list):
                raise CelError(f"{op}() on a non-list")
            results = (self._bool(self._eval(n[3], {**env, n[2]: x})) for x in items)
            return any(results) if op == "exists" else all(results)
        raise CelUnsupported(f"unsupported node {op}")

    @staticmethod
    def _bool(v):
        if not isinstance(v, bool):
            raise CelError("a logical operator on a non-bool")
        return v


# -- selectors ---------------------------------------------------------------
def selector_matches(sel, labels):
    """A webhook's namespaceSelector/objectSelector: missing or empty matches everything (admissionregistration)."""
    return True if not sel else am.label_selector_object_match(sel, labels)


def _rule_matches(rules, op):
    for r in rules or []:
        ops, groups = r.get("operations") or [], r.get("apiGroups") or []
        versions, resources = r.get("apiVersions") or [], r.get("resources") or []
        if (op in ops or "*" in ops) and ("" in groups or "*" in groups) and \
           ("v1" in versions or "*" in versions) and ("pods" in resources or "*" in resources):
            return True
    return False


class _VerifiedHTTPS(http.client.HTTPSConnection):
    """Dials host:port, verifies the certificate for `server_name` (the Service's DNS name)."""

    def __init__(self, host, port, server_name, context, timeout):
        super().__init__(host, port, context=context, timeout=timeout)
        self._server_name = server_name

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)


class Admission:
    """The webhook chain of one FakeApiServer (app): `admit_pod` is called by Api.create."""

    def __init__(self, app):
        self.app = app

    def _configs(self, storage):
        with self.app.store.lock:
            objs = list(self.app.store.objects.get(storage, {}).values())
        return sorted(objs, key=lambda o: o["metadata"]["name"])

    def _namespace_labels(self, ns):
        with self.app.store.lock:
            obj = self.app.store.objects.get("namespaces", {}).get(ns)
        labels = dict((obj or {}).get("metadata", {}).get("labels") or {})
        labels["kubernetes.io/metadata.name"] = ns
        return labels

    def admit_pod(self, pod, ns, user, dry_run, before_validation):
        """Runs the chain on `pod` (defaulted). Returns (pod, warnings). Raises ApiError when refused.
        `before_validation(pod)` runs between the phases (name generation), as the real registry does."""
        warnings = []
        for cfg in self._configs("mutatingwebhookconfigurations"):
            for hook in cfg.get("webhooks") or []:
                pod = self._call(hook, pod, ns, user, dry_run, warnings, mutating=True)
        before_validation(pod)
        for cfg in self._configs("validatingwebhookconfigurations"):
            for hook in cfg.get("webhooks") or []:
                self._call(hook, pod, ns, user, dry_run, warnings, mutating=False)
        return pod, warnings

    def _applies(self, hook, pod, ns, user):
        if not _rule_matches(hook.get("rules"), "CREATE"):
            return False
        if not selector_matches(hook.get("namespaceSelector"), self._namespace_labels(ns)):
            return False
        if not selector_matches(hook.get("objectSelector"), pod.get("metadata", {}).get("labels")):
            return False
        env = {"object": pod, "request": {"namespace": ns, "operation": "CREATE", "userInfo": user}}
        for c in hook.get("matchConditions") or []:
            if not Cel(c.get("expression", "")).evaluate(env):  # CelUnsupported / CelError: the caller's
                return False
        return True

    def _call(self, hook, pod, ns, user, dry_run, warnings, mutating):
        name = hook.get("name", "")
        fail = hook.get("failurePolicy", "Fail") == "Fail"
        try:
            if not self._applies(hook, pod, ns, user):
                return pod
            response = self._post(hook, self._review(pod, ns, user, dry_run))
        except (CelUnsupported, CelError, OSError, ValueError, http.client.HTTPException, ssl.SSLError) as e:
            if not fail:
                return pod
            raise am.err_internal(f'failed calling webhook "{name}": {e}')
        warnings.extend(w for w in response.get("warnings") or [] if isinstance(w, str))
        if not response.get("allowed"):
            st = response.get("status") or {}
            code = st.get("code") or 403
            reason = am.REASON_FOR_CODE.get(code, "") if hasattr(am, "REASON_FOR_CODE") else ""
            raise am.ApiError(code, reason or "Forbidden",
                              f'admission webhook "{name}" denied the request: {st.get("message", "")}')
        if mutating and response.get("patch"):
            if response.get("patchType") != "JSONPatch":
                raise am.err_internal(f'failed calling webhook "{name}": unsupported patchType')
            try:
                return am.json_patch(pod, json.loads(base64.b64decode(response["patch"])))
            except (am.JsonPatchError, ValueError) as e:
                raise am.err_internal(f'failed calling webhook "{name}": bad patch: {e}')
        return pod

    @staticmethod
    def _review(pod, ns, user, dry_run):
        gvk = {"group": "", "version": "v1", "kind": "Pod"}
        gvr = {"group": "", "version": "v1", "resource": "pods"}
        return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": str(uuid.uuid4()), "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
            "name": pod.get("metadata", {}).get("name", ""), "namespace": ns, "operation": "CREATE",
            "userInfo": user, "object": pod, "oldObject": None, "dryRun": bool(dry_run),
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}

    def _post(self, hook, review):
        cc = hook.get("clientConfig") or {}
        timeout = hook.get("timeoutSeconds") or 10
        ctx = ssl.create_default_context()
        if cc.get("caBundle"):
            ctx = ssl.create_default_context(cadata=base64.b64decode(cc["caBundle"]).decode())
        if cc.get("service"):
            svc = cc["service"]
            endpoint = self.app.webhook_endpoints.get(f"{svc.get('namespace')}/{svc.get('name')}")
            if endpoint is None:
                raise OSError(f'service "{svc.get("name")}" not found')
            host, port = endpoint
            server_name, path = f"{svc.get('name')}.{svc.get('namespace')}.svc", svc.get("path") or "/"
        else:
            u = re.match(r"https://([^:/]+)(?::(\d+))?(/.*)?$", cc.get("url") or "")
            if not u:
                raise ValueError(f"clientConfig.url {cc.get('url')!r} is not https://")
            host, port, path = u.group(1), int(u.group(2) or 443), u.group(3) or "/"
            server_name = host
        conn = _VerifiedHTTPS(host, port, server_name, ctx, timeout)
        try:
            conn.request("POST", path, body=json.dumps(review).encode(), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise ValueError(f"HTTP {resp.status}: {body[:200]!r}")
        out = json.loads(body)
        r = out.get("response") if isinstance(out, dict) else None
        if out.get("kind") != "AdmissionReview" or not isinstance(r, dict):
            raise ValueError("the webhook did not answer an AdmissionReview")
        if r.get("uid") != review["request"]["uid"]:
            raise ValueError(f"expected response.uid={review['request']['uid']!r}, got {r.get('uid')!r}")
        return r
