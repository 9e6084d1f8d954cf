#!/usr/bin/env python3
"""A stand-in for the GitHub REST API and the runner's OIDC token endpoint,
for tests (GitHub itself cannot be reached from CI here).

Serves, on 127.0.0.1:<port>:
  GET  /repos/{o}/{r}/actions/runs/{run}/artifacts   every *.zip in --artifacts (paged)
  GET  /repos/{o}/{r}/actions/artifacts/{id}/zip     302 to /blob/{id}
  GET  /blob/{id}                                    the zip; 400 if Authorization is sent
  GET/POST /repos/{o}/{r}/issues/{n}/comments        paged list / create
  PATCH/DELETE /repos/{o}/{r}/issues/comments/{id}
  GET  /repos/{o}/{r}/commits/{sha}/check-runs        ?check_name= (filter=latest)
  POST /repos/{o}/{r}/check-runs, PATCH .../check-runs/{id}
  GET  /oidc/token?audience=...                      {"value": <token>}
  GET  /_mock/requests, /_mock/comments, /_mock/check-runs
                                                     what happened, for assertions
API routes need `Authorization: Bearer <--token>`; the OIDC route needs the
request token. Prints the port on stdout once listening.
"""
import argparse
import base64
import json
import os
import re
import sys
import threading
import time

from serve_mock import JsonHandler, serve

ARGS = None
LOCK = threading.Lock()
REQUESTS = []
COMMENTS = {}  # id -> {"id", "body", "issue"}
CHECK_RUNS = {}  # id -> the body as created, then patched, and "bodies": every body sent
NEXT_ID = [1000]


def artifacts():
    names = sorted(f for f in os.listdir(ARGS.artifacts) if f.endswith(".zip"))
    return [
        {
            "id": i + 1,
            "name": n[: -len(".zip")],
            "size_in_bytes": os.path.getsize(os.path.join(ARGS.artifacts, n)),
            "expired": False,
            "archive_download_url": f"/repos/x/y/actions/artifacts/{i + 1}/zip",
        }
        for i, n in enumerate(names)
    ]


def fake_jwt(audience):
    def part(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    claims = {
        "iss": "https://token.actions.githubusercontent.com",
        "aud": audience,
        "sub": "repo:octo/shop:ref:refs/heads/main",
        "exp": int(time.time()) + 600,
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


class Handler(JsonHandler):
    def handle_any(self, method):
        url, query, body = self.read_request()
        path = url.path
        auth = self.headers.get("Authorization")
        with LOCK:
            REQUESTS.append({"method": method, "path": path, "query": url.query, "authorization": auth})
        if path == "/_mock/requests":
            with LOCK:
                return self.reply(200, REQUESTS)
        if path == "/_mock/check-runs":
            with LOCK:
                return self.reply(200, sorted(CHECK_RUNS.values(), key=lambda c: c["id"]))
        if path == "/_mock/comments":
            with LOCK:
                return self.reply(200, sorted(COMMENTS.values(), key=lambda c: c["id"]))
        if path.startswith("/blob/"):
            if auth:
                # Like the storage service: a second credential is refused.
                return self.reply(400, b"<Error>Authorization header not allowed with a signed URL</Error>")
            name = next((a for a in artifacts() if str(a["id"]) == path.split("/")[2]), None)
            if not name:
                return self.reply(404, {"message": "Not Found"})
            with open(os.path.join(ARGS.artifacts, name["name"] + ".zip"), "rb") as f:
                return self.reply(200, f.read(), [("Content-Type", "application/zip")])
        if path == "/oidc/token":
            if auth != f"Bearer {ARGS.oidc_request_token}":
                return self.reply(401, {"message": "bad request token"})
            return self.reply(200, {"value": fake_jwt(query.get("audience", [""])[0])})
        if auth != f"Bearer {ARGS.token}":
            return self.reply(401, {"message": "Bad credentials"})
        page = int(query.get("page", ["1"])[0])
        per_page = int(query.get("per_page", ["30"])[0])
        def paged(items):
            return items[(page - 1) * per_page : page * per_page]

        m = re.fullmatch(r"/repos/[^/]+/[^/]+/actions/runs/\d+/artifacts", path)
        if m and method == "GET":
            items = artifacts()
            return self.reply(200, {"total_count": len(items), "artifacts": paged(items)})
        m = re.fullmatch(r"/repos/[^/]+/[^/]+/actions/artifacts/(\d+)/zip", path)
        if m and method == "GET":
            host = self.headers.get("Host")
            return self.reply(302, None, [("Location", f"http://{host}/blob/{m.group(1)}?sig=secret")])
        m = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", path)
        if m:
            issue = int(m.group(1))
            if method == "GET":
                with LOCK:
                    items = sorted((c for c in COMMENTS.values() if c["issue"] == issue), key=lambda c: c["id"])
                return self.reply(200, paged(items))
            if method == "POST":
                time.sleep(ARGS.latency)
                with LOCK:
                    NEXT_ID[0] += 1
                    c = {"id": NEXT_ID[0], "issue": issue, "body": json.loads(body)["body"]}
                    COMMENTS[c["id"]] = c
                return self.reply(201, c)
        m = re.fullmatch(r"/repos/[^/]+/[^/]+/commits/([0-9a-f]+)/check-runs", path)
        if m and method == "GET":
            name = query.get("check_name", [None])[0]
            with LOCK:
                runs = [c for c in CHECK_RUNS.values() if c["head_sha"] == m.group(1) and name in (None, c["name"])]
            return self.reply(200, {"total_count": len(runs), "check_runs": paged(runs)})
        if re.fullmatch(r"/repos/[^/]+/[^/]+/check-runs", path) and method == "POST":
            sent = json.loads(body)
            if not sent.get("name") or not sent.get("head_sha"):
                return self.reply(422, {"message": "name and head_sha are required"})
            with LOCK:
                NEXT_ID[0] += 1
                c = dict(sent, id=NEXT_ID[0], bodies=[sent])
                CHECK_RUNS[c["id"]] = c
            return self.reply(201, c)
        m = re.fullmatch(r"/repos/[^/]+/[^/]+/check-runs/(\d+)", path)
        if m and method == "PATCH":
            sent = json.loads(body)
            with LOCK:
                c = CHECK_RUNS.get(int(m.group(1)))
                if c is None:
                    return self.reply(404, {"message": "Not Found"})
                c.update(sent)
                c["bodies"].append(sent)
            return self.reply(200, c)
        m = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", path)
        if m:
            cid = int(m.group(1))
            time.sleep(ARGS.latency)
            with LOCK:
                if cid not in COMMENTS:
                    return self.reply(404, {"message": "Not Found"})
                if method == "PATCH":
                    COMMENTS[cid]["body"] = json.loads(body)["body"]
                    return self.reply(200, COMMENTS[cid])
                if method == "DELETE":
                    del COMMENTS[cid]
                    return self.reply(204)
        return self.reply(404, {"message": f"mock: no route {method} {path}"})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--artifacts", required=True)
    p.add_argument("--token", default="gh-token")
    p.add_argument("--oidc-request-token", default="oidc-request-token")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to comment writes")
    ARGS = p.parse_args()
    serve(Handler, ARGS.port)


if __name__ == "__main__":
    sys.exit(main())
