"""Kubernetes API machinery pieces used by fake_apiserver.py.

Status errors, label/field selectors, merge / strategic-merge / JSON patch.
Behaviour follows the Kubernetes API documentation (API concepts, Status
object reference, labels and field-selector pages); the code is our own.
Python 3.11 standard library only.
"""
from __future__ import annotations

import copy
import datetime as _dt
import re

# --------------------------------------------------------------------------
# Status errors
# --------------------------------------------------------------------------

REASON_FOR_CODE = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict",
    410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
    429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
    504: "Timeout",
}


def status_body(code, reason, message, details=None, metadata=None):
    """A metav1.Status with status=Failure, fields in apiserver order."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": metadata or {},
            "status": "Failure", "message": message}
    if reason:
        body["reason"] = reason
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def success_status(code=None, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details is not None:
        body["details"] = details
    if code is not None:
        body["code"] = code
    return body


class ApiError(Exception):
    """An error that is answered with a Status object."""

    def __init__(self, code, reason, message, details=None, headers=None, metadata=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details, self.headers, self.metadata = details, headers or {}, metadata

    def body(self):
        return status_body(self.code, self.reason, self.message, self.details, self.metadata)


def _details(gr, name):
    """StatusDetails {name, group, kind} where kind is the resource (plural)."""
    d = {"name": name}
    if gr.group:
        d["group"] = gr.group
    d["kind"] = gr.plural
    return d


def err_not_found(gr, name):
    return ApiError(404, "NotFound", f'{gr.qualified} "{name}" not found', _details(gr, name))


def err_already_exists(gr, name):
    return ApiError(409, "AlreadyExists", f'{gr.qualified} "{name}" already exists', _details(gr, name))


def err_conflict(gr, name, why, qualified=None):
    q = qualified or gr.qualified
    d = _details(gr, name)
    if qualified:
        d["kind"] = qualified.split(".")[0]
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {q} "{name}": {why}', d)


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def err_invalid(kind, group, name, causes):
    """causes: list of (reasonType, field, message) -> 422 Invalid."""
    qkind = f"{kind}.{group}" if group else kind
    msgs = [f"{f}: {m}" for _, f, m in causes]
    joined = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    d = {"name": name}
    if group:
        d["group"] = group
    d["kind"] = kind
    d["causes"] = [{"reason": r, "message": m, "field": f} for r, f, m in causes]
    return ApiError(422, "Invalid", f'{qkind} "{name}" is invalid: {joined}', d)


def err_bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def err_method_not_allowed():
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource")


def err_expired(msg, metadata=None):
    return ApiError(410, "Expired", msg, metadata=metadata)


def err_internal(msg):
    return ApiError(500, "InternalError", f"Internal error occurred: {msg}", {"causes": [{"message": msg}]})


def err_unknown(code, msg):
    """A non-Status Go error surfaced by the apiserver: reason is empty."""
    return ApiError(code, "", msg)


def err_generic(code, message=None, retry_after=None):
    """Used for injected faults: shaped like NewGenericServerResponse."""
    reason = REASON_FOR_CODE.get(code, "InternalError" if code >= 500 else "BadRequest")
    msg = message or {
        429: "Too many requests, please try again later.",
        503: "the server is currently unable to handle the request",
        504: "the server was unable to return a response in the time allotted, but may still be processing the request",
        500: 'an error on the server ("injected fault") has prevented the request from succeeding',
    }.get(code, f"injected fault (HTTP {code})")
    details, headers = None, {}
    if retry_after is not None:
        details = {"retryAfterSeconds": int(retry_after)}
        headers["Retry-After"] = str(int(retry_after))
    return ApiError(code, reason, msg, details, headers)


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def now_rfc3339():
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro():
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def dns_subdomain_error(name):
    if len(name) > 253:
        return "must be no more than 253 characters"
    if not _DNS_SUBDOMAIN.match(name):
        return ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                "'-' or '.', and must start and end with an alphanumeric character")
    return None


def dns_label_error(name):
    if len(name) > 63 or not _DNS_LABEL.match(name):
        return ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                "and must start and end with an alphanumeric character")
    return None


def parse_bool(v):
    """Go strconv.ParseBool."""
    return v in ("1", "t", "T", "TRUE", "true", "True")


# --------------------------------------------------------------------------
# Label selectors (string form, as in ?labelSelector=)
# --------------------------------------------------------------------------

_LABEL_KEY = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VAL = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def _split_top(s):
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_label_selector(s):
    """Returns a list of (key, op, values). Raises ApiError 400 on bad syntax."""
    reqs = []
    if s is None or not s.strip():
        return reqs
    for raw in _split_top(s):
        r = raw.strip()
        if not r:
            raise err_bad_request(f"unable to parse requirement: found '', expected: identifier in {s!r}")
        m = re.match(r"^(\S+?)\s+(in|notin)\s*\((.*)\)$", r)
        if m:
            key, op = m.group(1), m.group(2)
            vals = [v.strip() for v in m.group(3).split(",")]
            vals = [v for v in vals if v != ""] if vals != [""] else []
        elif r.startswith("!"):
            key, op, vals = r[1:].strip(), "!", []
        else:
            m = re.match(r"^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$", r)
            if m:
                key, op, vals = m.group(1), m.group(2), [m.group(3)]
                if op == "==":
                    op = "="
                if op in (">", "<"):
                    try:
                        int(vals[0])
                    except ValueError:
                        raise err_bad_request(f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: {r!r}")
            elif re.match(r"^[^=!<>\s(),]+$", r):
                key, op, vals = r, "exists", []
            else:
                raise err_bad_request(f"unable to parse requirement: {r!r}")
        if not _LABEL_KEY.match(key) or len(key.split("/")[-1]) > 63:
            raise err_bad_request(f"unable to parse requirement: invalid label key {key!r}")
        for v in vals:
            if op not in (">", "<") and (len(v) > 63 or not _LABEL_VAL.match(v)):
                raise err_bad_request(f"unable to parse requirement: invalid label value: {v!r}")
        reqs.append((key, op, vals))
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        present = key in labels
        v = labels.get(key)
        if op in ("=", "in"):
            if not present or v not in vals:
                return False
        elif op in ("!=", "notin"):
            if present and v in vals:
                return False
        elif op == "exists":
            if not present:
                return False
        elif op == "!":
            if present:
                return False
        elif op in (">", "<"):
            try:
                iv = int(v)
            except (TypeError, ValueError):
                return False
            if (op == ">" and not iv > int(vals[0])) or (op == "<" and not iv < int(vals[0])):
                return False
    return True


def label_selector_object_match(sel, labels):
    """metav1.LabelSelector (matchLabels/matchExpressions). None matches nothing."""
    if sel is None:
        return False
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


# --------------------------------------------------------------------------
# Field selectors
# --------------------------------------------------------------------------

def _split_unescaped(s, sep):
    out, cur, i = [], [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if s[i] == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(s[i])
        i += 1
    out.append("".join(cur))
    return out


def _unescape(v):
    return re.sub(r"\\(.)", r"\1", v)


def parse_field_selector(s, supported):
    """Returns list of (field, op, value); op in {'=', '!='}."""
    reqs = []
    if s is None or not s.strip():
        return reqs
    for term in _split_unescaped(s, ","):
        term = term.strip()
        m = None
        for i in range(len(term)):
            if term[i] == "\\":
                continue
            if term.startswith("!=", i):
                m = (term[:i], "!=", term[i + 2:])
            elif term.startswith("==", i):
                m = (term[:i], "=", term[i + 2:])
            elif term[i] == "=" and (i == 0 or term[i - 1] != "\\"):
                m = (term[:i], "=", term[i + 1:])
            if m:
                break
        if not m:
            raise err_bad_request(f"invalid selector: '{s}'; can't understand '{term}'")
        field = m[0].strip()
        if field not in supported:
            raise err_bad_request(f"field label not supported: {field}")
        reqs.append((field, m[1], _unescape(m[2])))
    return reqs


def field_value(obj, path):
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def fields_match(reqs, obj, aliases=None):
    for field, op, value in reqs:
        path = (aliases or {}).get(field, field)
        v = field_value(obj, path)
        if (op == "=" and v != value) or (op == "!=" and v == value):
            return False
    return True


# --------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------

def json_merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = json_merge_patch(result.get(k), v)
    return result


# patchMergeKey of list fields in the built-in types we serve ('*' = any list
# element).  Lists not listed here are replaced atomically, as in the types.
SMP_MERGE_KEYS = {
    ("metadata", "ownerReferences"): "uid",
    ("spec", "containers"): "name",
    ("spec", "initContainers"): "name",
    ("spec", "ephemeralContainers"): "name",
    ("spec", "volumes"): "name",
    ("spec", "imagePullSecrets"): "name",
    ("spec", "containers", "*", "env"): "name",
    ("spec", "containers", "*", "ports"): "containerPort",
    ("spec", "containers", "*", "volumeMounts"): "mountPath",
    ("spec", "initContainers", "*", "env"): "name",
    ("status", "conditions"): "type",
    ("status", "addresses"): "type",
    ("status", "podIPs"): "ip",
    ("status", "hostIPs"): "ip",
}
SMP_SET_LISTS = {("metadata", "finalizers")}


def strategic_merge_patch(orig, patch, path=()):
    """Strategic merge patch for the types served here (merge keys above)."""
    if not isinstance(patch, dict):
        raise err_bad_request("strategic merge patch must be a JSON object")
    if patch.get("$patch") == "replace":
        return _strip_directives(patch)
    result = dict(orig) if isinstance(orig, dict) else {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            fld = k.split("/", 1)[1]
            result[fld] = [x for x in (result.get(fld) or []) if x not in (v or [])]
            continue
        sub = path + (k,)
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            if v.get("$patch") == "delete":
                result.pop(k, None)
            else:
                result[k] = strategic_merge_patch(result.get(k), v, sub)
        elif isinstance(v, list):
            key = SMP_MERGE_KEYS.get(sub)
            if key:
                result[k] = _merge_keyed_list(result.get(k) or [], v, key, sub)
            elif sub in SMP_SET_LISTS:
                cur = list(result.get(k) or [])
                result[k] = cur + [x for x in v if x not in cur]
            else:
                result[k] = _strip_directives(v)
        else:
            result[k] = v
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_keyed_list(orig, patch, key, path):
    if any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch):
        return [_strip_directives(e) for e in patch if not (isinstance(e, dict) and "$patch" in e)]
    out = [copy.deepcopy(e) for e in orig]
    for el in patch:
        if not isinstance(el, dict):
            raise err_bad_request(f"strategic merge patch: list element of {'.'.join(path)} must be an object")
        kv = el.get(key)
        idx = next((i for i, e in enumerate(out) if isinstance(e, dict) and e.get(key) == kv), None)
        if el.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge_patch({}, el, path + ("*",)))
        else:
            out[idx] = strategic_merge_patch(out[idx], el, path + ("*",))
    return out


def _strip_directives(v):
    if isinstance(v, dict):
        return {k: _strip_directives(x) for k, x in v.items() if not k.startswith("$")}
    if isinstance(v, list):
        return [_strip_directives(x) for x in v]
    return v


class JsonPatchError(Exception):
    pass


def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise JsonPatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts):
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise JsonPatchError(f"path segment {p!r} not found")
    return cur


def _get(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise JsonPatchError(f"path {'/'.join(parts)!r} not found")
    return cur


def _add(doc, parts, value):
    if not parts:
        return value
    par, last = _parent(doc, parts), parts[-1]
    if isinstance(par, dict):
        par[last] = value
    elif isinstance(par, list):
        if last == "-":
            par.append(value)
        elif last.isdigit() and int(last) <= len(par):
            par.insert(int(last), value)
        else:
            raise JsonPatchError(f"invalid array index {last!r}")
    else:
        raise JsonPatchError("cannot add to a scalar")
    return doc


def _remove(doc, parts):
    par, last = _parent(doc, parts), parts[-1] if parts else None
    if isinstance(par, dict) and last in par:
        return par.pop(last)
    if isinstance(par, list) and last is not None and last.isdigit() and int(last) < len(par):
        return par.pop(int(last))
    raise JsonPatchError(f"path {'/'.join(parts)!r} not found for remove")


def json_patch(doc, ops):
    """RFC 6902. Raises JsonPatchError."""
    if not isinstance(ops, list):
        raise JsonPatchError("a JSON patch must be an array of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise JsonPatchError(f"invalid operation {op!r}")
        kind, parts = op["op"], _ptr(op["path"])
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            _get(doc, parts)
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                _remove(doc, parts)
                doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            src = _ptr(op.get("from", ""))
            val = copy.deepcopy(_get(doc, src))
            if kind == "move":
                _remove(doc, src)
            doc = _add(doc, parts, val)
        elif kind == "test":
            if _get(doc, parts) != op.get("value"):
                raise JsonPatchError(f"testing value {op['path']} failed")
        else:
            raise JsonPatchError(f"unexpected kind of operation {kind!r}")
    return doc
