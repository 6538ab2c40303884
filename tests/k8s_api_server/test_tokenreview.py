"""TokenReview of the fake API server (python3 -m unittest tests/k8s_api_server/test_tokenreview.py)."""
import http.client
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_apiserver import FakeApiServer  # noqa: E402
import tokenreview  # noqa: E402

TOKEN = "sa-token"
USERS = {"alice-token": {"username": "alice", "uid": "u-1", "groups": ["research-admins"]},
         "aud-token": {"username": "bot", "audiences": ["drover"]}}


class TokenReviewTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = FakeApiServer(token=TOKEN, token_users=USERS).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def setUp(self):
        self.srv.reset()

    def call(self, method, path, body=None, token=TOKEN):
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data) if data else None

    def review(self, token, audiences=None, caller=TOKEN):
        spec = {"token": token}
        if audiences is not None:
            spec["audiences"] = audiences
        return self.call("POST", tokenreview.PATH, {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                                                    "spec": spec}, token=caller)

    def test_known_user_token_is_authenticated_with_groups(self):
        code, tr = self.review("alice-token")
        self.assertEqual(code, 201)
        self.assertEqual(tr["kind"], "TokenReview")
        self.assertTrue(tr["status"]["authenticated"])
        self.assertEqual(tr["status"]["user"]["username"], "alice")
        self.assertEqual(tr["status"]["user"]["uid"], "u-1")
        self.assertEqual(tr["status"]["user"]["groups"], ["research-admins", "system:authenticated"])
        self.assertEqual(tr["status"]["audiences"], [tokenreview.API_AUDIENCE])

    def test_servers_own_token_is_its_service_account(self):
        code, tr = self.review(TOKEN)
        self.assertEqual(code, 201)
        self.assertEqual(tr["status"]["user"]["username"], "system:serviceaccount:drover-system:drover")
        self.assertIn("system:serviceaccounts:drover-system", tr["status"]["user"]["groups"])

    def test_unknown_token_is_not_authenticated_and_says_why(self):
        code, tr = self.review("nobody")
        self.assertEqual(code, 201)
        self.assertNotIn("authenticated", tr["status"])  # false is omitted, as Go's omitempty does
        self.assertEqual(tr["status"]["user"], {})
        self.assertIn("invalid bearer token", tr["status"]["error"])

    def test_audiences_must_intersect(self):
        code, tr = self.review("aud-token")  # meant for "drover" only, not the API server
        self.assertEqual(code, 201)
        self.assertNotIn("authenticated", tr["status"])
        self.assertIn("is invalid for the target audiences", tr["status"]["error"])
        code, tr = self.review("aud-token", audiences=["other", "drover"])
        self.assertTrue(tr["status"]["authenticated"])
        self.assertEqual(tr["status"]["audiences"], ["drover"])
        self.assertEqual(tr["spec"]["audiences"], ["other", "drover"])

    def test_refusals(self):
        code, st = self.call("POST", tokenreview.PATH, {"kind": "TokenReview", "spec": {}})
        self.assertEqual((code, st["reason"]), (400, "BadRequest"))
        self.assertIn("token is required", st["message"])
        code, st = self.call("GET", tokenreview.PATH)
        self.assertEqual(code, 405)
        code, st = self.review("alice-token", caller="wrong")  # the caller itself must authenticate
        self.assertEqual(code, 401)

    def test_table_is_replaced_through_control_and_checked(self):
        code, out = self.call("POST", "/_control/tokens", {"tokens": {"bob-token": {"username": "bob"}}}, token=None)
        self.assertEqual((code, out["tokens"]), (200, 1))
        self.assertTrue(self.review("bob-token")[1]["status"]["authenticated"])
        self.assertNotIn("authenticated", self.review("alice-token")[1]["status"])
        code, st = self.call("POST", "/_control/tokens", {"tokens": {"x": {"groups": ["g"]}}}, token=None)
        self.assertEqual(code, 400)
        self.assertIn("username", st["message"])
        self.srv.reset()  # back to the table given at start
        self.assertTrue(self.review("alice-token")[1]["status"]["authenticated"])

    def test_discovery_lists_tokenreviews(self):
        code, lst = self.call("GET", "/apis/authentication.k8s.io/v1")
        self.assertEqual(code, 200)
        self.assertEqual([r["name"] for r in lst["resources"]], ["tokenreviews"])
        self.assertEqual(lst["resources"][0]["verbs"], ["create"])


if __name__ == "__main__":
    unittest.main()
