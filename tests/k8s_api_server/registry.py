"""Registry side of the fake apiserver: resource types, per-kind strategies, the
versioned store (global resourceVersion, bounded event history, watchers) and the
REST operations (get/list/create/update/patch/delete, binding, eviction).

Transport independent: every Api method returns (http_code, body) or raises
apimachinery.ApiError. Python 3.11 standard library only.
"""
from __future__ import annotations

import base64
import bisect
import collections
import copy
import json
import socket
import threading
import time
import uuid

import apimachinery as am
from apimachinery import ApiError

ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"


# ==========================================================================
# Resource types
# ==========================================================================

class RType:
    """One served resource (group/version/plural) and its registry strategy."""

    def __init__(self, plural, kind, group, version, namespaced, fields=(), storage=None,
                 aliases=None, return_deleted=False, unconditional_update=True,
                 create_on_update=False, status_sub=False, wire=None):
        self.plural, self.kind, self.group, self.version = plural, kind, group, version
        self.namespaced, self.storage = namespaced, storage or plural
        self.fields = ("metadata.name", "metadata.namespace") + tuple(fields)
        self.aliases = aliases or {}
        self.return_deleted, self.unconditional_update = return_deleted, unconditional_update
        self.create_on_update, self.status_sub, self.wire = create_on_update, status_sub, wire

    api_version = property(lambda s: f"{s.group}/{s.version}" if s.group else s.version)
    qualified = property(lambda s: f"{s.plural}.{s.group}" if s.group else s.plural)
    list_kind = property(lambda s: s.kind + "List")


_EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                 "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                 "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type")
_EV1_ALIASES = {f"regarding.{k}": f"involvedObject.{k}" for k in
                ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")}
_EV1_ALIASES.update({"reportingController": "reportingComponent", "source": "source.component"})

RESOURCES = [
    RType("namespaces", "Namespace", "", "v1", False, ("status.phase",), status_sub=True),
    RType("nodes", "Node", "", "v1", False, ("spec.unschedulable",), status_sub=True),
    RType("pods", "Pod", "", "v1", True,
          ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
           "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
          return_deleted=True, status_sub=True),
    RType("events", "Event", "", "v1", True, _EVENT_FIELDS, aliases={"source": "source.component"},
          create_on_update=True),
    RType("events", "Event", "events.k8s.io", "v1", True, _EVENT_FIELDS + tuple(_EV1_ALIASES),
          storage="events", aliases=_EV1_ALIASES, create_on_update=True, wire="events.k8s.io"),
    RType("poddisruptionbudgets", "PodDisruptionBudget", "policy", "v1", True, status_sub=True),
    RType("leases", "Lease", "coordination.k8s.io", "v1", True, unconditional_update=False,
          create_on_update=True),
    RType("configmaps", "ConfigMap", "", "v1", True),
    RType("secrets", "Secret", "", "v1", True),
    RType("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", "admissionregistration.k8s.io", "v1",
          False),
    RType("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", "admissionregistration.k8s.io", "v1",
          False),
    RType("controllerrevisions", "ControllerRevision", "apps", "v1", True),
]
RTYPES = {(r.group, r.version, r.plural): r for r in RESOURCES}
STORAGE_RT = {"namespaces": RESOURCES[0], "nodes": RESOURCES[1], "pods": RESOURCES[2],
              "events": RESOURCES[3], "poddisruptionbudgets": RESOURCES[5], "leases": RESOURCES[6],
              "configmaps": RESOURCES[7], "secrets": RESOURCES[8], "mutatingwebhookconfigurations": RESOURCES[9],
              "validatingwebhookconfigurations": RESOURCES[10],
              "controllerrevisions": RESOURCES[11]}

# core/v1 Event <-> events.k8s.io/v1 Event field renames (stored as core/v1).
_EV_RENAMES = [("involvedObject", "regarding"), ("message", "note"), ("source", "deprecatedSource"),
               ("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp"),
               ("count", "deprecatedCount"), ("reportingComponent", "reportingController")]


def to_wire(rt, obj):
    if rt.wire != "events.k8s.io":
        return obj
    out = {"kind": "Event", "apiVersion": "events.k8s.io/v1"}
    ren = dict(_EV_RENAMES)
    for k, v in obj.items():
        if k not in ("kind", "apiVersion"):
            out[ren.get(k, k)] = v
    return _ordered(out, _EV1_ORDER)


def from_wire(rt, obj):
    if rt.wire != "events.k8s.io":
        return obj
    out = {"kind": "Event", "apiVersion": "v1"}
    ren = {b: a for a, b in _EV_RENAMES}
    for k, v in obj.items():
        if k not in ("kind", "apiVersion"):
            out[ren.get(k, k)] = v
    return out


_META_ORDER = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
               "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
               "ownerReferences", "finalizers", "managedFields")
_TOP_ORDER = ("kind", "apiVersion", "metadata", "spec", "status", "data", "revision")
_CORE_EVENT_ORDER = ("kind", "apiVersion", "metadata", "involvedObject", "reason", "message", "source",
                     "firstTimestamp", "lastTimestamp", "count", "type", "eventTime", "series", "action", "related",
                     "reportingComponent", "reportingInstance")
_EV1_ORDER = ("kind", "apiVersion", "metadata", "eventTime", "series", "reportingController", "reportingInstance",
              "action", "reason", "regarding", "related", "note", "type", "deprecatedSource",
              "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount")


def _ordered(d, order):
    out = {k: d[k] for k in order if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return out


def canonical(obj):
    """Field order as the apiserver's Go structs serialize it (kind, apiVersion, metadata, spec, status)."""
    out = _ordered(obj, _CORE_EVENT_ORDER if obj.get("kind") == "Event" else _TOP_ORDER)
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = _ordered(out["metadata"], _META_ORDER)
    return out


def obj_key(ns, name):
    return f"{ns}/{name}" if ns is not None else name


def with_rv(obj, rv):
    """Shallow copy of obj with metadata.resourceVersion = rv (objects are immutable once stored)."""
    o = dict(obj)
    o["metadata"] = dict(obj["metadata"], resourceVersion=str(rv))
    return o


def set_condition(status, ctype, cstatus, reason=None, message=None):
    """Upsert a pod/node condition; lastTransitionTime changes only when status flips."""
    conds = status.setdefault("conditions", [])
    now = am.now_rfc3339()
    for c in conds:
        if c.get("type") == ctype:
            if c.get("status") != cstatus:
                c["lastTransitionTime"] = now
            c["status"] = cstatus
            for k, v in (("reason", reason), ("message", message)):
                if v is None:
                    c.pop(k, None)
                else:
                    c[k] = v
            return
    c = {"type": ctype, "status": cstatus, "lastProbeTime": None, "lastTransitionTime": now}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    conds.append(c)


def pod_condition(pod, ctype):
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c.get("status")
    return None


# ==========================================================================
# Per-kind strategy: defaults, validation, update rules
# ==========================================================================

def _qos_class(pod):
    conts = (pod.get("spec") or {}).get("containers") or []
    any_set, guaranteed = False, True
    for c in conts:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if any(k in req or k in lim for k in ("cpu", "memory")):
            any_set = True
        for k in ("cpu", "memory"):
            if k not in lim or req.get(k, lim.get(k)) != lim.get(k):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def set_namespace_name_label(md):
    """As the real API server (1.22+): every Namespace carries kubernetes.io/metadata.name = its name,
    set on create and on every update, whatever the request said."""
    labels = md.get("labels")
    if labels is None:
        labels = md["labels"] = {}
    if isinstance(labels, dict):
        labels["kubernetes.io/metadata.name"] = md["name"]


def default_pod(pod):
    spec = pod.setdefault("spec", {})
    for k, v in (("restartPolicy", "Always"), ("terminationGracePeriodSeconds", 30),
                 ("dnsPolicy", "ClusterFirst"), ("schedulerName", "default-scheduler"),
                 ("securityContext", {}), ("priority", 0), ("enableServiceLinks", True),
                 ("preemptionPolicy", "PreemptLowerPriority")):
        spec.setdefault(k, v)
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        image = c.get("image") or ""
        tagless = ":" not in image.rsplit("/", 1)[-1] and "@" not in image
        c.setdefault("imagePullPolicy", "Always" if tagless or image.endswith(":latest") else "IfNotPresent")
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        res = c.setdefault("resources", {})
        if res.get("limits"):  # requests default to limits (e.g. nvidia.com/gpu)
            req = res.setdefault("requests", {})
            for k, v in res["limits"].items():
                req.setdefault(k, v)


def validate(rt, obj, name):
    """Create/update validation. Raises 422 Invalid."""
    causes = []
    if rt.plural == "pods":
        conts = (obj.get("spec") or {}).get("containers")
        if not conts:
            causes.append(("FieldValueRequired", "spec.containers", "Required value"))
        for i, c in enumerate(conts or []):
            if not isinstance(c, dict) or not c.get("name"):
                causes.append(("FieldValueRequired", f"spec.containers[{i}].name", "Required value"))
            elif am.dns_label_error(c["name"]):
                causes.append(("FieldValueInvalid", f"spec.containers[{i}].name",
                               f'Invalid value: "{c["name"]}": ' + am.dns_label_error(c["name"])))
            if isinstance(c, dict) and not c.get("image"):
                causes.append(("FieldValueRequired", f"spec.containers[{i}].image", "Required value"))
    elif rt.plural == "poddisruptionbudgets":
        spec = obj.get("spec") or {}
        if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
            causes.append(("FieldValueInvalid", "spec",
                           "Invalid value: ...: minAvailable and maxUnavailable cannot be both set"))
    elif rt.plural == "leases":
        d = (obj.get("spec") or {}).get("leaseDurationSeconds")
        if d is not None and (not isinstance(d, int) or d <= 0):
            causes.append(("FieldValueInvalid", "spec.leaseDurationSeconds",
                           f"Invalid value: {d}: must be greater than 0"))
    elif rt.plural == "controllerrevisions":
        causes += _controller_revision_causes(obj)
    if causes:
        raise am.err_invalid(rt.kind, rt.group, name, causes)


def _controller_revision_causes(obj):
    """apps/v1 ControllerRevision: `data` is mandatory, `revision` an int64 >= 0 (0 when absent, as Go decodes it)."""
    rev = obj.get("revision", 0)
    if isinstance(rev, bool) or not isinstance(rev, int):
        # The real server fails decoding before validation.
        raise am.err_bad_request(f"json: cannot unmarshal {type(rev).__name__} into Go struct field "
                                 f"ControllerRevision.revision of type int64")
    causes = []
    if obj.get("data") is None:
        causes.append(("FieldValueRequired", "data", "Required value: data is mandatory"))
    if rev < 0:
        causes.append(("FieldValueInvalid", "revision", f"Invalid value: {rev}: must be greater than or equal to 0"))
    return causes


def check_controller_revision_update(old, new, name):
    """A ControllerRevision's `data` is immutable (the API reference: it "can not be updated")."""
    if new.get("data") != old.get("data"):
        raise am.err_invalid("ControllerRevision", "apps", name,
                             [("FieldValueInvalid", "data", "Invalid value: \"\": field is immutable")])


_POD_UPDATE_MSG = ("Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                   "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                   "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                   "(allow it to be set to 1 if it was previously negative)")


def check_pod_spec_update(old_spec, new_spec, name):
    o, n = copy.deepcopy(old_spec), copy.deepcopy(new_spec)
    for key in ("containers", "initContainers"):
        for oc, nc in zip(o.get(key) or [], n.get(key) or []):
            if isinstance(oc, dict) and isinstance(nc, dict):
                nc["image"] = oc.get("image")
    for f in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        o.pop(f, None)
        n.pop(f, None)
    og, ng = o.pop("schedulingGates", None) or [], n.pop("schedulingGates", None) or []
    if o != n or any(g not in og for g in ng):
        raise am.err_invalid("Pod", "", name, [("FieldValueForbidden", "spec", _POD_UPDATE_MSG)])


# ==========================================================================
# Store: objects, global resourceVersion, bounded event history, watchers
# ==========================================================================

class Ev:
    __slots__ = ("rv", "storage", "type", "obj", "prev", "cache")

    def __init__(self, rv, storage, etype, obj, prev):
        self.rv, self.storage, self.type, self.obj, self.prev = rv, storage, etype, obj, prev
        self.cache = {}


class Watcher:
    """One open watch. Events are offered under the store lock, drained by the HTTP thread."""

    def __init__(self, rt, ns, lsel, fsel, name=None):
        self.rt, self.ns, self.lsel, self.fsel, self.name = rt, ns, lsel, fsel, name
        self.cond = threading.Condition()
        self.q = collections.deque()
        self.dropped = False
        self.sock = None

    def matches(self, obj):
        md = obj["metadata"]
        if self.ns is not None and md.get("namespace") != self.ns:
            return False
        if self.name is not None and md.get("name") != self.name:
            return False
        return am.labels_match(self.lsel, md.get("labels")) and am.fields_match(self.fsel, obj, self.rt.aliases)

    def offer(self, ev):
        """Selector-filter an event (object leaving the selection -> DELETED, as the apiserver does)."""
        item = None
        if ev.type == ADDED:
            if self.matches(ev.obj):
                item = (ADDED, ev.obj, ev)
        elif ev.type == DELETED:
            if self.matches(ev.obj):
                item = (DELETED, ev.obj, ev)
        else:
            now, before = self.matches(ev.obj), self.matches(ev.prev)
            if now:
                item = (MODIFIED if before else ADDED, ev.obj, ev)
            elif before:
                prev = ev.cache.get("prev_at_rv")
                if prev is None:
                    prev = ev.cache["prev_at_rv"] = with_rv(ev.prev, ev.rv)
                item = (DELETED, prev, ev)
        if item:
            self.push(item)

    def push(self, item):
        with self.cond:
            self.q.append(item)
            self.cond.notify()

    def take(self, timeout):
        with self.cond:
            if not self.q and not self.dropped and timeout > 0:
                self.cond.wait(timeout)
            items = list(self.q)
            self.q.clear()
            return items

    def drop(self):
        with self.cond:
            self.dropped = True
            self.cond.notify()
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Store:
    def __init__(self, history_size=1000, continue_ttl=300.0):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified on every commit
        self.rv = 100
        self.objects = collections.defaultdict(dict)   # storage -> key -> obj
        self._sorted = {}                               # storage -> sorted keys (None = stale)
        self.history = collections.deque()
        self.history_size = history_size
        self.floor = self.rv        # watch from rv >= floor can be served from history
        self.compact_rv = 0         # explicit compaction: continue tokens / exact lists below -> 410
        self.watchers = collections.defaultdict(set)   # storage -> {Watcher}
        self.snapshots = collections.OrderedDict()     # (storage, rv) -> (t, keys, objs)
        self.continue_ttl = continue_ttl

    # -- writes (caller holds self.lock) ----------------------------------
    def commit(self, storage, etype, key, obj, prev=None):
        self.rv += 1
        rv = self.rv
        objs = self.objects[storage]
        if etype == DELETED:
            obj = with_rv(prev, rv)
            del objs[key]
            self._sorted[storage] = None
        else:
            obj["metadata"]["resourceVersion"] = str(rv)
            obj = canonical(obj)
            if key not in objs:
                self._sorted[storage] = None
            objs[key] = obj
        ev = Ev(rv, storage, etype, obj, prev)
        self.history.append(ev)
        while len(self.history) > self.history_size:
            self.floor = self.history.popleft().rv
        for w in self.watchers.get(storage, ()):
            w.offer(ev)
        self.changed.notify_all()
        return obj

    def compact(self, before_rv=None):
        """Forget history (and continue-token snapshots) up to before_rv (default: now)."""
        with self.lock:
            if before_rv is None:
                # Everything handed out so far becomes unservable; skip one RV (gaps are normal, RVs are
                # global) so that a fresh LIST returns an RV that can be watched from.
                self.rv += 1
            n = self.rv if before_rv is None else min(int(before_rv), self.rv)
            while self.history and self.history[0].rv <= n:
                self.history.popleft()
            self.floor = max(self.floor, n)
            self.compact_rv = max(self.compact_rv, n)
            for k in [k for k in self.snapshots if k[1] < n]:
                del self.snapshots[k]

    def set_history_size(self, n):
        with self.lock:
            self.history_size = max(1, int(n))
            while len(self.history) > self.history_size:
                self.floor = self.history.popleft().rv

    # -- reads (caller holds self.lock) -----------------------------------
    def sorted_keys(self, storage):
        keys = self._sorted.get(storage)
        if keys is None:
            keys = self._sorted[storage] = sorted(self.objects[storage])
        return keys

    def snapshot(self, storage, rv=None):
        """(keys, objs) at rv (default current). Raises KeyError if rv cannot be served."""
        rv = self.rv if rv is None else rv
        now = time.monotonic()
        for k in [k for k, v in self.snapshots.items() if now - v[0] > self.continue_ttl]:
            del self.snapshots[k]
        snap = self.snapshots.get((storage, rv))
        if snap:
            self.snapshots.move_to_end((storage, rv))
            return snap[1], snap[2]
        if rv < self.compact_rv or rv < self.floor or rv > self.rv:
            raise KeyError(rv)
        if rv == self.rv:
            objs_map = self.objects[storage]
            keys = list(self.sorted_keys(storage))
            objs = [objs_map[k] for k in keys]
        else:  # rebuild the past from the retained history (etcd-like MVCC)
            state = dict(self.objects[storage])
            for ev in reversed(self.history):
                if ev.rv <= rv:
                    break
                if ev.storage != storage:
                    continue
                key = obj_key(ev.obj["metadata"].get("namespace"), ev.obj["metadata"]["name"])
                if ev.type == ADDED:
                    state.pop(key, None)
                else:
                    state[key] = ev.prev
            keys = sorted(state)
            objs = [state[k] for k in keys]
        self.snapshots[(storage, rv)] = (now, keys, objs)
        while len(self.snapshots) > 16:
            self.snapshots.popitem(last=False)
        return keys, objs


# ==========================================================================
# Continue tokens
# ==========================================================================

def encode_continue(rv, start_key):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start_key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(tok):
    try:
        raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
        d = json.loads(raw)
        if d.get("v") != "meta.k8s.io/v1" or not isinstance(d.get("rv"), int) or not isinstance(d.get("start"), str):
            raise ValueError("unsupported token version")
        if d["rv"] == 0:
            raise ValueError("incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        return d["rv"], d["start"]
    except (ValueError, TypeError, json.JSONDecodeError) as e:
        raise am.err_bad_request(f"invalid continue token: {e}")


CONTINUE_INCONSISTENT = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list.")


# ==========================================================================
# The API (transport independent): every method returns (code, body[, headers])
# ==========================================================================

class Api:
    def __init__(self, app):
        self.app, self.store = app, app.store

    # -- helpers ----------------------------------------------------------
    def _get_locked(self, rt, ns, name):
        return self.store.objects[rt.storage].get(obj_key(ns, name))

    def _decode(self, body, rt, what=None):
        try:
            obj = json.loads(body.decode("utf-8") if body else "")
        except (ValueError, UnicodeDecodeError) as e:
            raise am.err_bad_request(f"error decoding request body: {e}")
        if not isinstance(obj, dict):
            raise am.err_bad_request(f"the body of the request must be a JSON object, got {type(obj).__name__}")
        want_kind = what or rt.kind
        if obj.get("kind") not in (None, "", want_kind):
            raise am.err_bad_request(f'the kind in the data ("{obj.get("kind")}") does not match the expected kind ("{want_kind}")')
        if what is None and obj.get("apiVersion") not in (None, "", rt.api_version):
            raise am.err_bad_request(f'the API version in the data ({obj.get("apiVersion")}) does not match the expected API version ({rt.api_version})')
        if not isinstance(obj.get("metadata", {}), dict):
            raise am.err_bad_request("metadata must be an object")
        return obj

    def _wait_rv(self, rv):
        """Block briefly for a future resourceVersion, then 504 like the watch cache."""
        deadline = time.monotonic() + self.app.too_large_wait
        with self.store.changed:
            while self.store.rv < rv:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ApiError(504, "Timeout", f"Too large resource version: {rv}, current: {self.store.rv}",
                                   {"causes": [{"reason": "ResourceVersionTooLarge",
                                                "message": "Too large resource version"}],
                                    "retryAfterSeconds": 1})
                self.store.changed.wait(left)

    @staticmethod
    def _parse_rv(v):
        try:
            n = int(v)
            if n < 0:
                raise ValueError
            return n
        except ValueError:
            raise am.err_bad_request(f"invalid resource version: {v!r}")

    def _selectors(self, rt, q):
        return (am.parse_label_selector(q.get("labelSelector")),
                am.parse_field_selector(q.get("fieldSelector"), rt.fields))

    # -- GET --------------------------------------------------------------
    def get(self, rt, ns, name, q):
        rv = q.get("resourceVersion", "")
        if rv not in ("", "0"):
            self._wait_rv(self._parse_rv(rv))
        with self.store.lock:
            obj = self._get_locked(rt, ns, name)
        if obj is None:
            raise am.err_not_found(rt, name)
        return 200, to_wire(rt, obj)

    # -- LIST -------------------------------------------------------------
    def list(self, rt, ns, q):
        lsel, fsel = self._selectors(rt, q)
        rv, rvm, cont = q.get("resourceVersion", ""), q.get("resourceVersionMatch", ""), q.get("continue", "")
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise am.err_bad_request(f"invalid limit: {q.get('limit')!r}")
        lo_causes = []
        if rvm and not rv:
            lo_causes.append(("FieldValueForbidden", "resourceVersionMatch",
                              "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"))
        if rvm and cont:
            lo_causes.append(("FieldValueForbidden", "resourceVersionMatch",
                              "Forbidden: resourceVersionMatch is forbidden when continue is provided"))
        if rvm and rvm not in ("NotOlderThan", "Exact"):
            lo_causes.append(("FieldValueNotSupported", "resourceVersionMatch",
                              f'Unsupported value: "{rvm}": supported values: "Exact", "NotOlderThan", ""'))
        if rvm == "Exact" and rv == "0":
            lo_causes.append(("FieldValueForbidden", "resourceVersionMatch",
                              'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
        if lo_causes:
            raise am.err_invalid("ListOptions", "meta.k8s.io", "", lo_causes)
        start, read_rv = "", None
        if cont:
            if rv not in ("", "0"):
                raise am.err_bad_request("specifying resource version is not allowed when using continue")
            read_rv, start = decode_continue(cont)
            if read_rv < 0:
                read_rv = None  # "-1": continue at the latest state (inconsistent continuation)
        elif rv not in ("", "0"):
            n = self._parse_rv(rv)
            if n > self.store.rv:
                self._wait_rv(n)
            if rvm == "Exact" or (limit > 0 and rvm == ""):
                read_rv = n
        with self.store.lock:
            st = self.store
            if read_rv is None or read_rv == st.rv:   # current state, no copy needed
                list_rv, keys, objmap = st.rv, st.sorted_keys(rt.storage), st.objects[rt.storage]
                items, nxt, lo, hi = self._page(rt, ns, keys, lambda i: objmap[keys[i]], start, limit, lsel, fsel)
                if nxt is not None:
                    st.snapshot(rt.storage, list_rv)   # pin this state for the following pages
            else:
                try:
                    keys, objs = st.snapshot(rt.storage, read_rv)
                except KeyError:
                    if cont:
                        raise am.err_expired(CONTINUE_INCONSISTENT, {"continue": encode_continue(-1, start)})
                    raise am.err_expired("The resourceVersion for the provided list is too old.")
                list_rv = read_rv
                items, nxt, lo, hi = self._page(rt, ns, keys, objs.__getitem__, start, limit, lsel, fsel)
        meta = {"resourceVersion": str(list_rv)}
        if nxt is not None:
            meta["continue"] = encode_continue(list_rv, keys[nxt - 1] + "\x00")
            if not lsel and not fsel:
                meta["remainingItemCount"] = hi - nxt
        return 200, {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": items}

    @staticmethod
    def _page(rt, ns, keys, get, start, limit, lsel, fsel):
        """Items of one page in key order; returns (items, index after last key or None, lo, hi)."""
        lo, hi = 0, len(keys)
        if ns is not None:
            lo, hi = bisect.bisect_left(keys, ns + "/"), bisect.bisect_left(keys, ns + "0")
        if start:
            lo = max(lo, bisect.bisect_left(keys, start))
        items, i, unfiltered = [], lo, not lsel and not fsel
        while i < hi and (limit <= 0 or len(items) < limit):
            o = get(i)
            i += 1
            md = o["metadata"]
            if unfiltered or (am.labels_match(lsel, md.get("labels")) and am.fields_match(fsel, o, rt.aliases)):
                w = to_wire(rt, o)
                items.append({k: v for k, v in w.items() if k != "kind" and k != "apiVersion"})
        return items, (i if limit > 0 and i < hi else None), lo, hi

    # -- CREATE -----------------------------------------------------------
    def create(self, rt, ns, body, seed=False):
        obj = from_wire(rt, self._decode(body, rt) if isinstance(body, (bytes, bytearray)) else body)
        obj["kind"], obj["apiVersion"] = rt.kind, ("v1" if rt.wire else rt.api_version)
        md = obj.setdefault("metadata", {})
        if rt.namespaced:
            if md.get("namespace") not in (None, "", ns):
                raise am.err_bad_request("the namespace of the provided object does not match the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        def generate_name(o):
            m = o.setdefault("metadata", {})
            if not m.get("name"):
                if m.get("generateName"):
                    m["name"] = m["generateName"] + uuid.uuid4().hex[:5]
                else:
                    raise am.err_invalid(rt.kind, rt.group, "", [("FieldValueRequired", "metadata.name",
                                                                  "Required value: name or generateName is required")])
        warnings = []
        if rt.plural == "pods" and not seed:
            # As the real API server: defaults, mutating webhooks (no name yet for generateName),
            # the name, validating webhooks (admission.py).
            default_pod(obj)
            obj, warnings = self.app.admission.admit_pod(obj, ns, self.app.current_user(), False, generate_name)
            md = obj.setdefault("metadata", {})
        generate_name(obj)
        name = md["name"]
        bad = am.dns_subdomain_error(name) if isinstance(name, str) else "must be a string"
        if bad:
            raise am.err_invalid(rt.kind, rt.group, str(name), [("FieldValueInvalid", "metadata.name",
                                                                 f'Invalid value: "{name}": {bad}')])
        if md.get("resourceVersion") and not seed:
            raise am.err_unknown(500, "resourceVersion should not be set on objects to be created")
        md.pop("resourceVersion", None)
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = am.now_rfc3339()
        for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            md.pop(k, None)
        if rt.plural == "pods":
            default_pod(obj)
            if not seed:  # the pod strategy resets status on create
                obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj)}
            else:
                obj.setdefault("status", {}).setdefault("phase", "Pending")
        elif rt.plural == "poddisruptionbudgets":
            md["generation"] = 1
            if not seed:
                obj["status"] = {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}
        elif rt.plural == "namespaces":
            obj["status"] = {"phase": "Active"}
            set_namespace_name_label(md)
        validate(rt, obj, name)
        key = obj_key(md.get("namespace") if rt.namespaced else None, name)
        with self.store.lock:
            if key in self.store.objects[rt.storage]:
                raise am.err_already_exists(rt, name)
            obj = self.store.commit(rt.storage, ADDED, key, obj)
            if seed and rt.plural == "pods":
                self.app.kubelet_on_bound(obj)
        if warnings:  # as the real API server: one Warning header per warning (RFC 7234 code 299)
            return 201, to_wire(rt, obj), {"Warning": ", ".join('299 - ' + json.dumps(w) for w in warnings)}
        return 201, to_wire(rt, obj)

    # -- UPDATE (PUT) and PATCH share _apply_update ------------------------
    def update(self, rt, ns, name, sub, body):
        new = from_wire(rt, self._decode(body, rt))
        md = new.setdefault("metadata", {})
        if md.get("name") != name:
            raise am.err_bad_request(f"the name of the object ({md.get('name') or ''}) does not match the name on the URL ({name})")
        if rt.namespaced and md.get("namespace") not in (None, "", ns):
            raise am.err_bad_request("the namespace of the provided object does not match the namespace sent on the request")
        with self.store.lock:
            old = self._get_locked(rt, ns, name)
            if old is None:
                if rt.create_on_update and sub is None:
                    new["metadata"].pop("resourceVersion", None)
                    return self.create(rt, ns, to_wire(rt, new))
                raise am.err_not_found(rt, name)
            return self._apply_update(rt, ns, name, sub, old, new, explicit_rv=md.get("resourceVersion"))

    def patch(self, rt, ns, name, sub, body, ctype):
        ctype = (ctype or "").split(";")[0].strip().lower()
        if ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                         "application/json-patch+json"):
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - accepted media types include: "
                           f"application/json-patch+json, application/merge-patch+json, "
                           f"application/strategic-merge-patch+json")
        try:
            p = json.loads(body.decode("utf-8") if body else "")
        except (ValueError, UnicodeDecodeError) as e:
            raise am.err_bad_request(f"error decoding patch: {e}")
        with self.store.lock:
            old = self._get_locked(rt, ns, name)
            if old is None:
                raise am.err_not_found(rt, name)
            cur = copy.deepcopy(to_wire(rt, old))
            if ctype == "application/json-patch+json":
                try:
                    new = am.json_patch(cur, p)
                except am.JsonPatchError as e:
                    raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {e}")
            elif not isinstance(p, dict):
                raise am.err_bad_request("the patch must be a JSON object")
            elif ctype == "application/merge-patch+json":
                new = am.json_merge_patch(cur, p)
            else:
                new = am.strategic_merge_patch(cur, p)
            if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
                raise am.err_bad_request("patched object is not a valid object")
            new = from_wire(rt, new)
            prv = new["metadata"].get("resourceVersion")
            return self._apply_update(rt, ns, name, sub, old, new,
                                      explicit_rv=prv if prv != old["metadata"]["resourceVersion"] else None)

    def _apply_update(self, rt, ns, name, sub, old, new, explicit_rv):
        """Caller holds the store lock. Optimistic concurrency + strategy + no-op detection."""
        omd, md = old["metadata"], new.setdefault("metadata", {})
        if explicit_rv:
            if explicit_rv != omd["resourceVersion"]:
                raise am.err_conflict(rt, name, am.STALE)
        elif not rt.unconditional_update:
            raise am.err_invalid(rt.kind, rt.group, name, [("FieldValueInvalid", "metadata.resourceVersion",
                                                            "Invalid value: 0x0: must be specified for an update")])
        if md.get("uid") and md["uid"] != omd["uid"]:
            raise am.err_conflict(rt, name, f"Precondition failed: UID in precondition: {md['uid']}, "
                                            f"UID in object meta: {omd['uid']}")
        new["kind"], new["apiVersion"] = old["kind"], old["apiVersion"]
        for k in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "generation"):
            if k in omd:
                md[k] = omd[k]
            else:
                md.pop(k, None)
        if rt.status_sub:
            if sub == "status":   # status endpoint ignores spec changes
                if "spec" in old:
                    new["spec"] = copy.deepcopy(old["spec"])
                else:
                    new.pop("spec", None)
            else:                 # main endpoint ignores status changes
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
        if rt.plural == "pods" and sub is None:
            default_pod(new)
            check_pod_spec_update(old.get("spec") or {}, new.get("spec") or {}, name)
        if rt.plural == "controllerrevisions":
            check_controller_revision_update(old, new, name)
        if rt.plural == "namespaces":
            set_namespace_name_label(md)
        if rt.plural == "poddisruptionbudgets" and new.get("spec") != old.get("spec"):
            md["generation"] = omd.get("generation", 1) + 1
        validate(rt, new, name)
        md["resourceVersion"] = omd["resourceVersion"]
        if new == old:   # no-op update: no new resourceVersion, no event
            return 200, to_wire(rt, old)
        key = obj_key(ns if rt.namespaced else None, name)
        if md.get("deletionTimestamp") and not md.get("finalizers") and omd.get("finalizers"):
            new = self.store.commit(rt.storage, MODIFIED, key, new, old)   # last finalizer removed: delete
            gone = self.store.commit(rt.storage, DELETED, key, None, new)
            return 200, to_wire(rt, gone)
        new = self.store.commit(rt.storage, MODIFIED, key, new, old)
        return 200, to_wire(rt, new)

    # -- DELETE -----------------------------------------------------------
    def delete(self, rt, ns, name, q, body):
        opts = {}
        if body and body.strip():
            try:
                opts = json.loads(body)
            except ValueError as e:
                raise am.err_bad_request(f"error decoding DeleteOptions: {e}")
            if not isinstance(opts, dict):
                raise am.err_bad_request("DeleteOptions must be a JSON object")
        grace = q.get("gracePeriodSeconds", opts.get("gracePeriodSeconds"))
        try:
            grace = None if grace in (None, "") else int(grace)
        except ValueError:
            raise am.err_bad_request(f"invalid gracePeriodSeconds: {grace!r}")
        with self.store.lock:
            obj = self._get_locked(rt, ns, name)
            if obj is None:
                raise am.err_not_found(rt, name)
            pre = opts.get("preconditions") or {}
            omd = obj["metadata"]
            if pre.get("uid") and pre["uid"] != omd["uid"]:
                raise am.err_conflict(rt, name, f"Precondition failed: UID in precondition: {pre['uid']}, "
                                                f"UID in object meta: {omd['uid']}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != omd["resourceVersion"]:
                raise am.err_conflict(rt, name, f"Precondition failed: ResourceVersion in precondition: "
                                                f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                                f"{omd['resourceVersion']}")
            result = self.delete_locked(rt, obj, grace)
        if result is obj or rt.return_deleted or result["metadata"].get("deletionTimestamp"):
            return 200, to_wire(rt, result)
        details = {"name": name}
        if rt.group:
            details["group"] = rt.group
        details.update(kind=rt.plural, uid=omd["uid"])
        return 200, am.success_status(details=details)

    def delete_locked(self, rt, obj, grace=None):
        """Delete honouring finalizers and (optionally) graceful pod termination. Returns the result."""
        md = obj["metadata"]
        key = obj_key(md.get("namespace") if rt.namespaced else None, md["name"])
        finalizers = md.get("finalizers")
        kubelet_pod = (rt.plural == "pods" and self.app.pod_grace_delay is not None
                       and (obj.get("spec") or {}).get("nodeName")
                       and (obj.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))
        if md.get("deletionTimestamp"):         # already terminating
            if kubelet_pod and grace == 0 and not finalizers:
                return self.store.commit(rt.storage, DELETED, key, None, obj)
            return obj
        graceful = kubelet_pod and grace != 0
        if not finalizers and not graceful:
            return self.store.commit(rt.storage, DELETED, key, None, obj)
        new = copy.deepcopy(obj)
        new["metadata"]["deletionTimestamp"] = am.now_rfc3339()
        g = grace if grace is not None else (obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        new["metadata"]["deletionGracePeriodSeconds"] = g if graceful else 0
        new = self.store.commit(rt.storage, MODIFIED, key, new, obj)
        if graceful:   # the "kubelet" confirms termination after pod_grace_delay seconds
            uid = md["uid"]
            self.app.timers.after(self.app.pod_grace_delay, lambda: self.app.finish_pod_delete(key, uid))
        return new

    def delete_collection(self, rt, ns, q):
        _, lst = self.list(rt, ns, {k: v for k, v in q.items() if k in ("labelSelector", "fieldSelector")})
        out = []
        with self.store.lock:
            for it in lst["items"]:
                imd = it["metadata"]
                obj = self._get_locked(rt, imd.get("namespace") if rt.namespaced else None, imd["name"])
                if obj is not None:
                    r = self.delete_locked(rt, obj)
                    out.append({k: v for k, v in to_wire(rt, r).items() if k not in ("kind", "apiVersion")})
            rv = self.store.rv
        return 200, {"kind": rt.list_kind, "apiVersion": rt.api_version,
                     "metadata": {"resourceVersion": str(rv)}, "items": out}

    # -- pods/binding -----------------------------------------------------
    def bind(self, ns, name, body):
        pods = STORAGE_RT["pods"]
        b = self._decode(body, pods, what="Binding")
        bmd = b.get("metadata") or {}
        if name is None:        # legacy POST /namespaces/{ns}/bindings
            name = bmd.get("name") or ""
        stats = self.app.stats
        stats.bind(ns, name, "attempts")
        if bmd.get("name") != name:
            raise am.err_bad_request("name in URL does not match name in Binding object")
        if bmd.get("namespace") not in (None, "", ns):
            raise am.err_bad_request("the namespace of the provided object does not match the namespace sent on the request")
        target = b.get("target") or {}
        if target.get("kind") not in (None, "", "Node"):
            raise am.err_unknown(500, f'target.kind: Unsupported value: "{target.get("kind")}": supported values: "Node", "<empty>"')
        if not target.get("name"):
            raise am.err_unknown(500, "target.name: Required value")
        fault = self.app.faults.take_bind_error()
        if fault and not fault.get("after_commit"):
            stats.bind(ns, name, "injected_failures")
            raise am.err_generic(fault["code"], fault.get("message"), fault.get("retry_after"))
        with self.store.lock:
            pod = self._get_locked(pods, ns, name)
            if pod is None:
                stats.bind(ns, name, "not_found")
                if fault:  # nothing was committed, so nothing to report as lost
                    self.app.faults.give_back_bind_error(fault)
                raise am.err_not_found(pods, name)
            pmd = pod["metadata"]
            try:
                if bmd.get("uid") and bmd["uid"] != pmd["uid"]:
                    raise am.err_conflict(pods, name, f"Precondition failed: UID in precondition: {bmd['uid']}, "
                                                      f"UID in object meta: {pmd['uid']}")
                if bmd.get("resourceVersion") and bmd["resourceVersion"] != pmd["resourceVersion"]:
                    raise am.err_conflict(pods, name, am.STALE)
                if pmd.get("deletionTimestamp"):
                    raise am.err_conflict(pods, name, f"pod {name} is being deleted, cannot be assigned to a host",
                                          qualified="pods/binding")
                if pod["spec"].get("nodeName"):
                    raise am.err_conflict(pods, name, f'pod {name} is already assigned to node "{pod["spec"]["nodeName"]}"',
                                          qualified="pods/binding")
                if pod["spec"].get("schedulingGates"):
                    raise am.err_conflict(pods, name, f"pod {name} has non-empty .spec.schedulingGates",
                                          qualified="pods/binding")
            except ApiError:
                stats.bind(ns, name, "conflicts")
                if fault:
                    self.app.faults.give_back_bind_error(fault)
                raise
            new = copy.deepcopy(pod)
            new["spec"]["nodeName"] = target["name"]
            if bmd.get("annotations"):
                new["metadata"].setdefault("annotations", {}).update(bmd["annotations"])
            set_condition(new.setdefault("status", {}), "PodScheduled", "True")
            new = self.store.commit("pods", MODIFIED, obj_key(ns, name), new, pod)
            stats.bind(ns, name, "succeeded", node=target["name"])
            self.app.kubelet_on_bound(new)
        if fault:  # bound, but the client is told it failed (lost response)
            stats.bind(ns, name, "injected_failures")
            raise am.err_generic(fault["code"], fault.get("message"), fault.get("retry_after"))
        return 201, am.success_status(code=201)

    # -- pods/eviction ----------------------------------------------------
    def evict(self, ns, name, body):
        pods, pdbs = STORAGE_RT["pods"], STORAGE_RT["poddisruptionbudgets"]
        e = self._decode(body, pods, what="Eviction")
        stats = self.app.stats
        stats.evict(ns, name, "attempts")
        if (e.get("metadata") or {}).get("name") != name:
            raise am.err_bad_request("name in URL does not match name in Eviction object")
        dopts = e.get("deleteOptions") or {}
        with self.store.lock:
            pod = self._get_locked(pods, ns, name)
            if pod is None:
                raise am.err_not_found(pods, name)
            pre = dopts.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != pod["metadata"]["uid"]:
                raise am.err_conflict(pods, name, f"Precondition failed: UID in precondition: {pre['uid']}, "
                                                  f"UID in object meta: {pod['metadata']['uid']}")
            phase = (pod.get("status") or {}).get("phase")
            ignore_pdb = phase in ("Succeeded", "Failed", "Pending") or pod["metadata"].get("deletionTimestamp")
            labels = pod["metadata"].get("labels") or {}
            matching = []
            if not ignore_pdb and labels:
                for key in self.store.sorted_keys("poddisruptionbudgets"):
                    pdb = self.store.objects["poddisruptionbudgets"][key]
                    if pdb["metadata"]["namespace"] == ns and am.label_selector_object_match(
                            (pdb.get("spec") or {}).get("selector"), labels):
                        matching.append(pdb)
            if len(matching) > 1:
                raise am.err_internal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
            if matching:
                self._check_pdb(pdbs, matching[0], pod, ns)
            self.delete_locked(pods, pod, dopts.get("gracePeriodSeconds"))
        stats.evict(ns, name, "succeeded")
        return 201, am.success_status(code=201)

    def _check_pdb(self, pdbs, pdb, pod, ns):
        """Disruption-controller arithmetic computed live (no controller runs here)."""
        spec = pdb.get("spec") or {}
        members = [p for p in self.store.objects["pods"].values()
                   if p["metadata"].get("namespace") == ns
                   and am.label_selector_object_match(spec.get("selector"), p["metadata"].get("labels"))
                   and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]

        def healthy(p):
            return ((p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
                    and pod_condition(p, "Ready") != "False")

        expected, current = len(members), sum(1 for p in members if healthy(p))

        def scaled(v, round_up):
            if isinstance(v, str) and v.endswith("%"):
                x = int(v[:-1]) * expected / 100.0
                return int(-(-x // 1)) if round_up else int(x)
            return int(v)

        if spec.get("minAvailable") is not None:
            desired = scaled(spec["minAvailable"], True)
        elif spec.get("maxUnavailable") is not None:
            desired = max(0, expected - scaled(spec["maxUnavailable"], True))
        else:
            desired = expected
        if not healthy(pod):
            policy = spec.get("unhealthyPodEvictionPolicy") or "IfHealthyBudget"
            if policy == "AlwaysAllow" or (current >= desired and desired > 0):
                return
        allowed = max(0, current - desired)
        status = dict(pdb.get("status") or {}, currentHealthy=current, desiredHealthy=desired,
                      expectedPods=expected, observedGeneration=pdb["metadata"].get("generation", 1))
        if allowed == 0:
            self.app.stats.evict(ns, pod["metadata"]["name"], "refused")
            raise ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                           {"causes": [{"reason": "DisruptionBudget",
                                        "message": f"The disruption budget {pdb['metadata']['name']} needs {desired} "
                                                   f"healthy pods and has {current} currently"}]})
        new = copy.deepcopy(pdb)
        status["disruptionsAllowed"] = allowed - 1
        status["disruptedPods"] = dict(status.get("disruptedPods") or {}, **{pod["metadata"]["name"]: am.now_rfc3339()})
        new["status"] = status
        self.store.commit("poddisruptionbudgets", MODIFIED,
                          obj_key(ns, pdb["metadata"]["name"]), new, pdb)
