"""TokenReview (authentication.k8s.io/v1) for the fake API server.

POST /apis/authentication.k8s.io/v1/tokenreviews answers 201 with the TokenReview,
its spec echoed and its status filled the way kube-apiserver fills it:

- a token in the table (or the server's own --token, a service account's) ->
  status.authenticated true, status.user {username, uid, groups (+ system:authenticated)},
  status.audiences: the spec's audiences the token carries (without spec.audiences,
  the API server's own audience, which the token must carry);
- any other token, or one meant for none of the audiences -> status {user: {},
  error: "[invalid bearer token, ...]"} and no authenticated field (false, omitted);
- no spec.token -> 400 "token is required for TokenReview in authentication".

The table comes from --token-users FILE or POST /_control/tokens:
{"tokens": {"TOKEN": {"username": "alice", "uid": "u-1", "groups": ["team-a"],
                      "audiences": ["https://kubernetes.default.svc.cluster.local"]}}}
(audiences optional: default the API server's own).
"""
import json
import threading

from apimachinery import ApiError, err_bad_request

PATH = "/apis/authentication.k8s.io/v1/tokenreviews"
API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
SERVICE_ACCOUNT = ("drover-system", "drover")  # who the server's own --token belongs to


def _bad(msg):
    return err_bad_request(f"control: tokens: {msg}")


def check_table(table):
    """Validates a token table; returns it normalized. ApiError 400 naming the entry."""
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise _bad("must be an object of token -> user")
    out = {}
    for token, user in table.items():
        where = f"tokens[{token[:8]!r}...]"
        if not token or not isinstance(user, dict) or not isinstance(user.get("username"), str) or not user["username"]:
            raise _bad(f"{where}: needs a non-empty username")
        groups, auds = user.get("groups", []), user.get("audiences", [API_AUDIENCE])
        for name, v in (("groups", groups), ("audiences", auds)):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise _bad(f"{where}.{name}: must be a list of strings")
        unknown = set(user) - {"username", "uid", "groups", "audiences", "extra"}
        if unknown:
            raise _bad(f"{where}: unknown keys {sorted(unknown)}")
        out[token] = {"username": user["username"], "uid": str(user.get("uid", "")), "groups": list(groups),
                      "audiences": list(auds), "extra": user.get("extra")}
    return out


class TokenReviews:
    def __init__(self, table=None):
        self.lock = threading.Lock()
        self.initial = check_table(table)
        self.table = dict(self.initial)
        self.reviews = 0  # TokenReview requests answered (201)

    def reset(self):
        with self.lock:
            self.table, self.reviews = dict(self.initial), 0

    def configure(self, req):
        table = check_table(req.get("tokens"))
        with self.lock:
            self.table = table
        return {"ok": True, "tokens": len(table)}

    def _user(self, token, server_token):
        with self.lock:
            user = self.table.get(token)
        if user is None and server_token is not None and token == server_token:
            ns, name = SERVICE_ACCOUNT
            user = {"username": f"system:serviceaccount:{ns}:{name}", "uid": "sa-uid-drover",
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}"],
                    "audiences": [API_AUDIENCE], "extra": None}
        return user

    def review(self, body, server_token):
        """-> (201, TokenReview). ApiError for a request the API server refuses."""
        try:
            obj = json.loads(body or b"{}")
        except ValueError as e:
            raise err_bad_request(f"the body of the request was in an unknown format: {e}")
        if not isinstance(obj, dict) or obj.get("kind", "TokenReview") != "TokenReview":
            raise err_bad_request("the body of the request is not a TokenReview")
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        token, wanted = spec.get("token"), spec.get("audiences") or []
        if not isinstance(token, str) or not token:
            raise err_bad_request("token is required for TokenReview in authentication")
        if not isinstance(wanted, list) or not all(isinstance(a, str) for a in wanted):
            raise ApiError(422, "Invalid", "TokenReview.authentication.k8s.io is invalid: spec.audiences: "
                           "Invalid value: must be a list of strings")
        user = self._user(token, server_token)
        targets = wanted or [API_AUDIENCE]
        status = {"user": {}}
        if user is None:
            status["error"] = "[invalid bearer token, token lookup failed]"
        else:
            common = [a for a in targets if a in user["audiences"]]
            if not common:
                status["error"] = (f"[invalid bearer token, token audiences {json.dumps(user['audiences'])} "
                                   f"is invalid for the target audiences {json.dumps(targets)}]")
            else:
                u = {"username": user["username"], "groups": user["groups"] + ["system:authenticated"]}
                if user["uid"]:
                    u["uid"] = user["uid"]
                if user["extra"]:
                    u["extra"] = user["extra"]
                status = {"authenticated": True, "user": u, "audiences": common}
        with self.lock:
            self.reviews += 1
        out_spec = {"token": token}
        if wanted:
            out_spec["audiences"] = wanted
        return 201, {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                     "metadata": {"creationTimestamp": None}, "spec": out_spec, "status": status}
