"""apps/v1 ControllerRevisions on the fake apiserver, as the real one serves them
(droverd mirrors its configuration revisions as ControllerRevisions).

Run: python3 -m unittest test_controller_revisions   (from tests/k8s_api_server; ctest fake_apiserver_controller_revisions)
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_fake_apiserver import Base  # noqa: E402

BASE = "/apis/apps/v1/namespaces/drover-system/controllerrevisions"
LABELS = {"app.kubernetes.io/name": "drover", "drover.io/kind": "config-revision"}


def revision(n, data=None, labels=LABELS, **meta):
    cr = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
          "metadata": dict(name=f"drover-config-{n}", labels=dict(labels), **meta), "revision": n}
    if data is not None:
        cr["data"] = data
    return cr


class TestControllerRevisions(Base):
    def test_create_get_and_field_order(self):
        created = self.ok("POST", BASE, revision(3, {"document": "queues: []", "author": "alice"}), expect=201)
        self.assertEqual(list(created)[:3], ["kind", "apiVersion", "metadata"])
        self.assertEqual(created["kind"], "ControllerRevision")
        self.assertEqual(created["apiVersion"], "apps/v1")
        self.assertEqual(created["revision"], 3)
        self.assertEqual(created["data"]["author"], "alice")
        self.assertEqual(created["metadata"]["namespace"], "drover-system")
        self.assertTrue(created["metadata"]["resourceVersion"].isdigit())
        self.assertTrue(created["metadata"]["uid"])
        got = self.ok("GET", BASE + "/drover-config-3")
        self.assertEqual(got, created)

    def test_existing_name_is_409_already_exists(self):
        self.ok("POST", BASE, revision(1, {"document": "a"}), expect=201)
        st, out = self.req("POST", BASE, revision(1, {"document": "b"}))
        self.assertEqual(st, 409, out)
        self.assertStatus(out, 409, "AlreadyExists")
        self.assertEqual(out["message"], 'controllerrevisions.apps "drover-config-1" already exists')
        self.assertEqual(out["details"]["group"], "apps")
        self.assertEqual(out["details"]["kind"], "controllerrevisions")
        self.assertEqual(self.ok("GET", BASE + "/drover-config-1")["data"], {"document": "a"})  # the first stays

    def test_missing_is_404(self):
        st, out = self.req("GET", BASE + "/drover-config-9")
        self.assertEqual(st, 404)
        self.assertStatus(out, 404, "NotFound")
        self.assertEqual(out["message"], 'controllerrevisions.apps "drover-config-9" not found')
        st, out = self.req("DELETE", BASE + "/drover-config-9")
        self.assertEqual(st, 404)

    def test_validation(self):
        st, out = self.req("POST", BASE, revision(1))                      # no data
        self.assertEqual(st, 422, out)
        self.assertStatus(out, 422, "Invalid")
        self.assertIn("data: Required value: data is mandatory", out["message"])
        st, out = self.req("POST", BASE, revision(-1, {"x": 1}))
        self.assertEqual(st, 422, out)
        self.assertIn("revision: Invalid value: -1: must be greater than or equal to 0", out["message"])
        st, out = self.req("POST", BASE, dict(revision(1, {"x": 1}), revision="7"))
        self.assertEqual(st, 400, out)
        self.assertIn("ControllerRevision.revision of type int64", out["message"])
        bad = revision(1, {"x": 1})
        bad["metadata"]["name"] = "Drover_Config"
        st, out = self.req("POST", BASE, bad)
        self.assertEqual(st, 422, out)
        self.assertIn("metadata.name", out["message"])
        no_rev = revision(1, {"x": 1})
        del no_rev["revision"]                                              # Go decodes a missing int64 as 0
        self.assertEqual(self.ok("POST", BASE, no_rev, expect=201).get("revision", 0), 0)

    def test_data_is_immutable_and_labels_are_not(self):
        created = self.ok("POST", BASE, revision(2, {"document": "a"}), expect=201)
        changed = dict(created, data={"document": "b"})
        st, out = self.req("PUT", BASE + "/drover-config-2", changed)
        self.assertEqual(st, 422, out)
        self.assertIn("data: Invalid value", out["message"])
        self.assertIn("field is immutable", out["message"])
        st, out = self.req("PATCH", BASE + "/drover-config-2", {"data": {"document": "c"}},
                           "application/merge-patch+json")
        self.assertEqual(st, 422, out)
        relabelled = self.ok("PATCH", BASE + "/drover-config-2", {"metadata": {"labels": {"x": "y"}}},
                             "application/merge-patch+json")
        self.assertEqual(relabelled["metadata"]["labels"]["x"], "y")
        self.assertNotEqual(relabelled["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"])
        self.assertEqual(relabelled["data"], {"document": "a"})

    def test_list_by_label_selector_paged_and_delete(self):
        for n in range(1, 6):
            self.ok("POST", BASE, revision(n, {"n": n}), expect=201)
        self.ok("POST", BASE, revision(99, {"n": 99}, labels={"app.kubernetes.io/name": "other"}), expect=201)
        sel = "labelSelector=app.kubernetes.io%2Fname%3Ddrover%2Cdrover.io%2Fkind%3Dconfig-revision"
        out = self.ok("GET", f"{BASE}?{sel}")
        self.assertEqual(out["kind"], "ControllerRevisionList")
        self.assertEqual(out["apiVersion"], "apps/v1")
        self.assertEqual(sorted(i["revision"] for i in out["items"]), [1, 2, 3, 4, 5])
        self.assertTrue(all("kind" not in i for i in out["items"]))   # items carry no kind, as the real server
        page = self.ok("GET", f"{BASE}?{sel}&limit=2")
        seen = [i["revision"] for i in page["items"]]
        self.assertEqual(len(seen), 2)
        self.assertNotIn("remainingItemCount", page["metadata"])   # never set with a selector (API concepts)
        while page["metadata"].get("continue"):
            page = self.ok("GET", f"{BASE}?{sel}&limit=2&continue={page['metadata']['continue']}")
            seen += [i["revision"] for i in page["items"]]
        self.assertEqual(sorted(seen), [1, 2, 3, 4, 5])
        # Other namespaces do not see them; the cluster-wide list does.
        self.assertEqual(self.ok("GET", "/apis/apps/v1/namespaces/default/controllerrevisions")["items"], [])
        self.assertEqual(len(self.ok("GET", "/apis/apps/v1/controllerrevisions")["items"]), 6)
        out = self.ok("DELETE", BASE + "/drover-config-3")
        self.assertEqual(out["kind"], "Status")
        self.assertEqual(out["status"], "Success")
        self.assertEqual(out["details"]["name"], "drover-config-3")
        self.assertEqual(sorted(i["revision"] for i in self.ok("GET", f"{BASE}?{sel}")["items"]), [1, 2, 4, 5])

    def test_discovery_lists_apps_v1(self):
        groups = self.ok("GET", "/apis")["groups"]
        self.assertIn("apps", [g["name"] for g in groups])
        res = self.ok("GET", "/apis/apps/v1")["resources"]
        cr = [r for r in res if r["name"] == "controllerrevisions"]
        self.assertEqual(len(cr), 1)
        self.assertTrue(cr[0]["namespaced"])
        self.assertEqual(cr[0]["kind"], "ControllerRevision")


if __name__ == "__main__":
    unittest.main()
