"""Namespaces of the fake API server as droverd's Namespace informer reads them: list with a
resourceVersion, watch events ADDED/MODIFIED/DELETED, and the kubernetes.io/metadata.name label the
real API server (1.22+) sets on create and on every update.

Run: python3 -m unittest test_namespaces (in tests/k8s_api_server)
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_fake_apiserver import Base  # noqa: E402

NAME_LABEL = "kubernetes.io/metadata.name"


def namespace(name, **labels):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


class NamespacesTest(Base):
    def test_create_sets_the_name_label(self):
        out = self.ok("POST", "/api/v1/namespaces", namespace("team-a", team="a"))
        self.assertEqual(out["metadata"]["labels"], {"team": "a", NAME_LABEL: "team-a"})
        bare = self.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": "bare"}})
        self.assertEqual(bare["metadata"]["labels"], {NAME_LABEL: "bare"})

    def test_update_keeps_the_name_label_whatever_the_request_says(self):
        self.ok("POST", "/api/v1/namespaces", namespace("team-a", team="a"))
        out = self.ok("PATCH", "/api/v1/namespaces/team-a",
                      {"metadata": {"labels": {"team": "b", NAME_LABEL: "other"}}},
                      ctype="application/merge-patch+json")
        self.assertEqual(out["metadata"]["labels"], {"team": "b", NAME_LABEL: "team-a"})

    def test_list_then_watch_sees_added_modified_deleted(self):
        self.ok("POST", "/api/v1/namespaces", namespace("team-a", team="a"))
        listed = self.ok("GET", "/api/v1/namespaces?limit=500")
        self.assertEqual(listed["kind"], "NamespaceList")
        self.assertTrue(listed["metadata"]["resourceVersion"])
        self.assertIn("team-a", [n["metadata"]["name"] for n in listed["items"]])
        rv = listed["metadata"]["resourceVersion"]
        w = self.watch(f"/api/v1/namespaces?watch=true&resourceVersion={rv}&timeoutSeconds=5")
        self.assertEqual(w.status, 200)
        self.ok("POST", "/api/v1/namespaces", namespace("team-b", team="b"))
        self.ok("PATCH", "/api/v1/namespaces/team-a", {"metadata": {"labels": {"team": "c"}}},
                ctype="application/merge-patch+json")
        self.ok("DELETE", "/api/v1/namespaces/team-b")
        seen = []
        for _ in range(3):
            ev = w.next_non_bookmark()
            self.assertIsNotNone(ev)
            seen.append((ev["type"], ev["object"]["metadata"]["name"],
                         ev["object"]["metadata"]["labels"].get("team")))
            self.assertGreater(int(ev["object"]["metadata"]["resourceVersion"]), int(rv))
        self.assertEqual(seen, [("ADDED", "team-b", "b"), ("MODIFIED", "team-a", "c"), ("DELETED", "team-b", "b")])


if __name__ == "__main__":
    unittest.main()
