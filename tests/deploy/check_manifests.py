#!/usr/bin/env python3
"""Static checks of the manifests in deploy/ (Python standard library only).

  python3 tests/deploy/check_manifests.py [REPO_ROOT]

Every document must have apiVersion, kind and metadata.name; namespaced objects of
deploy/ live in drover-system; RBAC is least privilege (no wildcards, nothing beyond
the calls droverd makes, leases only through a Role in drover's namespace); the
daemon's workload runs droverd as non-root with a read-only root filesystem,
resource requests, /healthz and /readyz probes on the port it passes to
--health-port, and the queue ConfigMap mounted where --queues points, holding
examples/queues-small-team.yaml; Services only expose ports a container declares;
the example workloads name schedulerName: drover and a drover.io/queue.
Prints one line per failed check and "N passed, N failed" at the end.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mini_yaml  # noqa: E402

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass",
                  "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
NAMESPACE = "drover-system"
# Everything droverd may do, per (apiGroup, resource): k8s/README.md and deploy/README.md.
ALLOWED_CLUSTER = {
    ("", "nodes"): {"get", "list", "watch"},
    ("", "pods"): {"get", "list", "watch"},
    ("", "namespaces"): {"get", "list", "watch"},
    ("", "pods/binding"): {"create"},
    ("", "pods/status"): {"patch"},
    ("", "pods/eviction"): {"create"},
    ("", "events"): {"create", "patch"},
    ("events.k8s.io", "events"): {"create", "patch"},
    ("policy", "poddisruptionbudgets"): {"get", "list", "watch"},
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): {"get", "patch"},
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): {"get", "patch"},
    ("authentication.k8s.io", "tokenreviews"): {"create"},
}
# What the daemon cannot work without.
REQUIRED_CLUSTER = {
    ("", "nodes"): {"list", "watch"},
    ("", "pods"): {"get", "list", "watch"},
    # Namespace labels for namespaceSelector (droverd runs without, with the selectors degraded).
    ("", "namespaces"): {"list", "watch"},
    ("", "pods/binding"): {"create"},
    ("", "pods/status"): {"patch"},
    ("", "pods/eviction"): {"create"},
    ("", "events"): {"create", "patch"},
    # The admin API authenticates bearer tokens with TokenReview (--admin-token-review, on by default).
    ("authentication.k8s.io", "tokenreviews"): {"create"},
}
LEASE_VERBS = {"get", "create", "update"}
# In droverd's namespace: its Lease, and GET of the quota ConfigMap it follows (--queues-configmap).
# The mirrored configuration revisions (deploy/README.md): create, list at takeover, get after a 409, delete
# a copy whose local write failed.
REVISION_VERBS = {"create", "get", "list", "delete"}
ALLOWED_NAMESPACED = {("coordination.k8s.io", "leases"): LEASE_VERBS, ("", "configmaps"): {"get"},
                      ("", "secrets"): {"get", "create", "update"},
                      ("apps", "controllerrevisions"): REVISION_VERBS}


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}")
        return ok


def get(obj, *path, default=None):
    for p in path:
        if isinstance(obj, dict) and p in obj:
            obj = obj[p]
        elif isinstance(obj, list) and isinstance(p, int) and p < len(obj):
            obj = obj[p]
        else:
            return default
    return obj


def load(root):
    docs = []  # (file, doc)
    for sub in ("deploy", os.path.join("deploy", "examples")):
        d = os.path.join(root, sub)
        for name in sorted(os.listdir(d)):
            if name.endswith((".yaml", ".yml")):
                path = os.path.join(d, name)
                with open(path, encoding="utf-8") as f:
                    for doc in mini_yaml.load_all(f.read(), os.path.relpath(path, root)):
                        docs.append((os.path.relpath(path, root), doc))
    return docs


def rbac_rules(c, where, rules, allowed, granted):
    for i, r in enumerate(rules or []):
        w = f"{where} rules[{i}]"
        groups, resources, verbs = r.get("apiGroups") or [], r.get("resources") or [], r.get("verbs") or []
        c.check("*" not in groups and "*" not in resources and "*" not in verbs, f"{w}: wildcard")
        c.check(not r.get("nonResourceURLs"), f"{w}: nonResourceURLs")
        for g in groups:
            for res in resources:
                extra = set(verbs) - allowed.get((g, res), set())
                c.check(not extra, f"{w}: {g or 'core'}/{res} grants {sorted(extra)} beyond what droverd uses")
                granted.setdefault((g, res), set()).update(verbs)


def check_workload(c, f, doc, configmaps):
    name = f"{f}: {doc['kind']} {get(doc, 'metadata', 'name')}"
    pod = get(doc, "spec", "template", "spec", default={})
    c.check(get(pod, "serviceAccountName") == "drover", f"{name}: serviceAccountName drover")
    c.check(get(pod, "securityContext", "runAsNonRoot") is True, f"{name}: pod runAsNonRoot")
    containers = get(pod, "containers", default=[])
    c.check(len(containers) >= 1, f"{name}: containers")
    volumes = {v.get("name"): v for v in get(pod, "volumes", default=[])}
    for ct in containers:
        cn = f"{name} container {ct.get('name')}"
        sc = ct.get("securityContext") or {}
        c.check(sc.get("readOnlyRootFilesystem") is True, f"{cn}: readOnlyRootFilesystem")
        c.check(sc.get("allowPrivilegeEscalation") is False, f"{cn}: allowPrivilegeEscalation false")
        c.check(sc.get("runAsNonRoot", get(pod, "securityContext", "runAsNonRoot")) is True, f"{cn}: runAsNonRoot")
        c.check("ALL" in (get(sc, "capabilities", "drop", default=[]) or []), f"{cn}: drops ALL capabilities")
        req = get(ct, "resources", "requests", default={}) or {}
        c.check("cpu" in req and "memory" in req, f"{cn}: cpu and memory requests")
        args = [str(a) for a in (ct.get("command") or []) + (ct.get("args") or [])]
        flags = {}
        for a in args:
            if a.startswith("--") and "=" in a:
                k, v = a.split("=", 1)
                flags[k] = v
        ports = {p.get("name"): p.get("containerPort") for p in ct.get("ports") or []}
        health = flags.get("--health-port")
        c.check(health is not None and health.isdigit(), f"{cn}: --health-port=N")
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            pp = get(ct, probe, "httpGet", default={}) or {}
            c.check(pp.get("path") == path, f"{cn}: {probe} on {path}")
            port = pp.get("port")
            port = ports.get(port, port) if isinstance(port, str) else port
            c.check(str(port) == str(health), f"{cn}: {probe} port {port} is --health-port {health}")
        webhook = flags.get("--webhook-port")
        admin = flags.get("--admin-port")
        served = {int(p) for p in (health, webhook, admin) if p and p.isdigit() and int(p) > 0}
        c.check(health and health.isdigit() and set(ports.values()) <= served,
                f"{cn}: declares only ports droverd serves (--health-port {health}, --webhook-port {webhook}, "
                f"--admin-port {admin}), "
                f"got {sorted(ports.values())}")
        c.check(ports.get("webhook") == (int(webhook) if webhook and webhook.isdigit() else None),
                f"{cn}: port 'webhook' is --webhook-port {webhook}")
        c.check("--in-cluster" in args, f"{cn}: --in-cluster")
        c.check(flags.get("--leader-elect", "true") == "true", f"{cn}: --leader-elect")
        c.check(flags.get("--lease-namespace") == NAMESPACE, f"{cn}: --lease-namespace={NAMESPACE}")
        queues = flags.get("--queues")
        ok = False
        for m in ct.get("volumeMounts") or []:
            vol = volumes.get(m.get("name")) or {}
            cm = get(vol, "configMap", "name")
            mount = m.get("mountPath", "").rstrip("/") + "/"
            if cm and queues and queues.startswith(mount):
                key = queues[len(mount):]
                ok = key in (configmaps.get(cm) or {})
        c.check(ok, f"{cn}: --queues={queues} is a key of a mounted ConfigMap")
        # The store on an emptyDir: kept across container restarts, never a PersistentVolume (README).
        state = flags.get("--state-dir")
        state_ok = False
        for m in ct.get("volumeMounts") or []:
            vol = volumes.get(m.get("name")) or {}
            if state and m.get("mountPath", "").rstrip("/") == state.rstrip("/") and not m.get("readOnly"):
                state_ok = "emptyDir" in vol and bool(get(vol, "emptyDir", "sizeLimit"))
        c.check(state_ok, f"{cn}: --state-dir={state} is a writable emptyDir mount with a sizeLimit")
        c.check("ephemeral-storage" in req, f"{cn}: an ephemeral-storage request (the store's emptyDir)")
    return [p.get("containerPort") for ct in containers for p in ct.get("ports") or []], \
        get(doc, "spec", "template", "metadata", "labels", default={})


def check_webhooks(c, kinds):
    """The admission webhooks: safe by construction (deploy/README.md, "Admission webhook")."""
    hooks = []
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        docs = kinds.get(kind, [])
        c.check(len(docs) == 1 and get(docs[0][1], "metadata", "name") == "drover", f"one {kind} named drover")
        for f, doc in docs:
            hooks += [(f, kind, h) for h in doc.get("webhooks") or []]
    for f, kind, h in hooks:
        n = f"{f}: {kind} webhook {h.get('name')}"
        c.check(h.get("admissionReviewVersions") == ["v1"], f"{n}: admissionReviewVersions [v1]")
        c.check(h.get("sideEffects") == "None", f"{n}: sideEffects None")
        c.check(isinstance(h.get("timeoutSeconds"), int) and 1 <= h["timeoutSeconds"] <= 5, f"{n}: timeoutSeconds <= 5")
        expected = "Ignore" if kind.startswith("Mutating") else "Fail"
        c.check(h.get("failurePolicy") == expected, f"{n}: failurePolicy {expected} (documented choice)")
        c.check(bool(h.get("matchConditions")), f"{n}: matchConditions narrow what is sent")
        exprs = get(h, "namespaceSelector", "matchExpressions", default=[]) or []
        c.check(any(e.get("key") == "kubernetes.io/metadata.name" and e.get("operator") == "NotIn"
                    and NAMESPACE in (e.get("values") or []) for e in exprs), f"{n}: {NAMESPACE} excluded")
        rules = h.get("rules") or []
        c.check(rules and all(r.get("resources") == ["pods"] and r.get("operations") == ["CREATE"] for r in rules),
                f"{n}: only pod CREATE")
        svc = get(h, "clientConfig", "service", default={}) or {}
        c.check(svc.get("name") == "drover-webhook" and svc.get("namespace") == NAMESPACE
                and svc.get("path") in ("/mutate", "/validate"), f"{n}: served by drover-webhook /mutate|/validate")
        ports = [p.get("port") for _, s in kinds.get("Service", []) if get(s, "metadata", "name") == svc.get("name")
                 for p in get(s, "spec", "ports", default=[]) or []]
        c.check(svc.get("port", 443) in ports, f"{n}: its Service port exists")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    c = Checker()
    try:
        docs = load(root)
    except (mini_yaml.YamlError, ValueError) as e:
        print(f"FAIL: {e}")
        print("0 passed, 1 failed")
        return 1
    c.check(len(docs) > 0, "deploy/ has manifests")
    kinds = {}
    configmaps = {}
    for f, doc in docs:
        name = get(doc, "metadata", "name")
        c.check(isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind") and name,
                f"{f}: document has apiVersion, kind and metadata.name")
        kind = doc.get("kind")
        kinds.setdefault(kind, []).append((f, doc))
        if kind == "ConfigMap":
            configmaps[name] = doc.get("data") or {}
        if not f.startswith(os.path.join("deploy", "examples")) and kind not in CLUSTER_SCOPED:
            c.check(get(doc, "metadata", "namespace") == NAMESPACE, f"{f}: {kind} {name} in namespace {NAMESPACE}")
    c.check(any(get(d, "metadata", "name") == NAMESPACE for _, d in kinds.get("Namespace", [])),
            f"Namespace {NAMESPACE}")
    c.check(any(get(d, "metadata", "name") == "drover" for _, d in kinds.get("ServiceAccount", [])),
            "ServiceAccount drover")

    granted = {}
    for f, doc in kinds.get("ClusterRole", []):
        rbac_rules(c, f"{f}: ClusterRole {get(doc, 'metadata', 'name')}", doc.get("rules"), ALLOWED_CLUSTER, granted)
    for key, verbs in REQUIRED_CLUSTER.items():
        c.check(verbs <= granted.get(key, set()), f"ClusterRole grants {key[0] or 'core'}/{key[1]} {sorted(verbs)}")
    lease_granted, revisions_granted = set(), set()
    for f, doc in kinds.get("Role", []):
        ns = get(doc, "metadata", "namespace")
        c.check(ns == NAMESPACE, f"{f}: Role in {NAMESPACE}")
        g = {}
        rbac_rules(c, f"{f}: Role {get(doc, 'metadata', 'name')}", doc.get("rules"),
                   ALLOWED_NAMESPACED, g)
        lease_granted |= g.get(("coordination.k8s.io", "leases"), set())
        revisions_granted |= g.get(("apps", "controllerrevisions"), set())
    c.check(lease_granted == LEASE_VERBS, f"Role grants leases {sorted(LEASE_VERBS)}, got {sorted(lease_granted)}")
    c.check(revisions_granted == REVISION_VERBS,
            f"Role grants controllerrevisions {sorted(REVISION_VERBS)}, got {sorted(revisions_granted)}")
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        for f, doc in kinds.get(kind, []):
            subj = doc.get("subjects") or []
            c.check(subj and all(s.get("kind") == "ServiceAccount" and s.get("name") == "drover"
                                 and s.get("namespace") == NAMESPACE for s in subj),
                    f"{f}: {kind} binds only ServiceAccount {NAMESPACE}/drover")
            ref = get(doc, "roleRef", "kind")
            c.check(ref == kind.replace("Binding", ""), f"{f}: {kind} refers to a {kind.replace('Binding', '')}")

    workloads = kinds.get("Deployment", []) + kinds.get("StatefulSet", [])
    c.check(len(workloads) == 1, "exactly one Deployment or StatefulSet runs droverd")
    declared, pod_labels = [], {}
    for f, doc in workloads:
        declared, pod_labels = check_workload(c, f, doc, configmaps)
        if doc["kind"] == "Deployment":
            c.check(get(doc, "spec", "replicas", default=1) >= 2, f"{f}: at least 2 replicas with leader election")
    with open(os.path.join(root, "examples", "queues-small-team.yaml"), encoding="utf-8") as fh:
        example = fh.read()
    c.check(any(example == v for cm in configmaps.values() for v in cm.values()),
            "a ConfigMap holds examples/queues-small-team.yaml verbatim")
    for f, doc in kinds.get("Service", []):
        sel = get(doc, "spec", "selector", default={}) or {}
        c.check(sel and all(pod_labels.get(k) == v for k, v in sel.items()), f"{f}: Service selects droverd pods")
        for p in get(doc, "spec", "ports", default=[]) or []:
            tp = p.get("targetPort", p.get("port"))
            c.check(tp in declared or tp in ("health", "webhook"),
                    f"{f}: Service port {p.get('name')} targets a served port")

    jobs = [(f, d) for f, d in kinds.get("Job", []) if f.startswith(os.path.join("deploy", "examples"))]
    c.check(len(jobs) >= 1, "deploy/examples has a GPU Job")
    for f, doc in jobs:
        tmpl = get(doc, "spec", "template", default={})
        n = f"{f}: Job {get(doc, 'metadata', 'name')}"
        c.check(get(tmpl, "spec", "schedulerName") == "drover", f"{n}: schedulerName drover")
        ann = get(tmpl, "metadata", "annotations", default={}) or {}
        c.check(str(ann.get("drover.io/queue", "")).startswith("root."), f"{n}: drover.io/queue annotation")
        c.check(str(ann.get("drover.io/tier", "")) in ("0", "1", "2"), f"{n}: drover.io/tier annotation")
        gpus = [get(ct, "resources", "limits", "nvidia.com/gpu") for ct in get(tmpl, "spec", "containers", default=[])]
        c.check(any(g for g in gpus), f"{n}: asks for nvidia.com/gpu")
    check_webhooks(c, kinds)
    print(f"{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
