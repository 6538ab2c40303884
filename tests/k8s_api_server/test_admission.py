"""The fake API server's admission chain: the bounded CEL evaluator on the expressions deploy/ ships,
explicit errors for everything else, and how failurePolicy treats a webhook it cannot call."""
import json
import os
import sys
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "deploy"))
import admission  # noqa: E402
import mini_yaml  # noqa: E402
from fake_apiserver import FakeApiServer  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")


def pod(scheduler="default-scheduler", requests=None, limits=None):
    res = {}
    if requests is not None:
        res["requests"] = requests
    if limits is not None:
        res["limits"] = limits
    return {"spec": {"schedulerName": scheduler, "containers": [{"name": "a", "resources": res}]}}


class CelTest(unittest.TestCase):
    def shipped(self):
        with open(os.path.join(ROOT, "deploy", "40-webhook.yaml"), encoding="utf-8") as fh:
            docs = mini_yaml.load_all(fh.read())
        return {(h["name"], c["name"]): admission.Cel(c["expression"])
                for d in docs for h in d.get("webhooks") or [] for c in h.get("matchConditions") or []}

    def test_shipped_expressions_select_gpu_and_drover_pods(self):
        exprs = self.shipped()
        self.assertEqual(len(exprs), 3)
        gpu = exprs[("validate.drover.io", "gpu-or-drover")]
        self.assertTrue(gpu.evaluate({"object": pod(limits={"nvidia.com/gpu": "1"})}))
        self.assertTrue(gpu.evaluate({"object": pod(requests={"nvidia.com/gpu": "2"})}))
        self.assertTrue(gpu.evaluate({"object": pod(scheduler="drover")}))
        self.assertFalse(gpu.evaluate({"object": pod(requests={"cpu": "1"})}))
        self.assertFalse(gpu.evaluate({"object": {"spec": {"containers": [{"name": "a"}]}}}))
        not_gpu = exprs[("mutate-namespaces.drover.io", "not-gpu")]
        self.assertTrue(not_gpu.evaluate({"object": pod(requests={"cpu": "1"})}))
        self.assertFalse(not_gpu.evaluate({"object": pod(limits={"nvidia.com/gpu": "1"})}))

    def test_anything_outside_the_subset_is_an_explicit_error(self):
        for expr in ("object.spec.containers.size() > 0", "1 == 1", "object.metadata.name.startsWith('a')",
                     "object.spec.containers.map(c, c.name)", "a ? b : c", "object['spec']", "x" * 5000):
            with self.assertRaises(admission.CelUnsupported, msg=expr[:40]):
                admission.Cel(expr)

    def test_runtime_errors_are_errors_not_false(self):
        with self.assertRaises(admission.CelError):
            admission.Cel("object.spec.missing == 'x'").evaluate({"object": pod()})
        with self.assertRaises(admission.CelError):
            admission.Cel("object.spec").evaluate({"object": pod()})


class ChainTest(unittest.TestCase):
    def setUp(self):
        self.srv = FakeApiServer().start()

    def tearDown(self):
        self.srv.stop()

    def post(self, path, body):
        req = urllib.request.Request(self.srv.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_failure_policy_decides_when_the_webhook_cannot_be_called(self):
        out = self.post("/_control/manifest", {"path": os.path.join(ROOT, "deploy", "40-webhook.yaml")})
        self.assertEqual(out[1]["created"], 2)
        self.assertEqual(out[1]["skipped"], 1)  # the Service
        gpu = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "g"},
               "spec": {"containers": [{"name": "a", "image": "x", "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}
        code, body = self.post("/api/v1/namespaces/team-a/pods", gpu)
        # mutating: Ignore (skipped); validating: Fail (no endpoint for the Service)
        self.assertEqual(code, 500)
        self.assertIn('failed calling webhook "validate.drover.io"', body["message"])
        cpu = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c"},
               "spec": {"containers": [{"name": "a", "image": "x"}]}}
        self.assertEqual(self.post("/api/v1/namespaces/team-a/pods", cpu)[0], 201)  # not sent: matchConditions
        gpu["metadata"]["name"] = "sys"
        self.assertEqual(self.post("/api/v1/namespaces/drover-system/pods", gpu)[0], 201)  # namespaceSelector


if __name__ == "__main__":
    unittest.main()
