#!/usr/bin/env python3
"""A stand-in for GitLab's merge request notes API, for tests (GitLab
itself cannot be reached from CI here).

Serves, on 127.0.0.1:<port>, under /api/v4:
  GET  /projects/{id}/merge_requests/{iid}/notes        paged list (per_page,
       page, sort, order_by; X-Page, X-Next-Page, X-Total), with a system note
  POST /projects/{id}/merge_requests/{iid}/notes        create ({"body"})
  PUT/DELETE /projects/{id}/merge_requests/{iid}/notes/{note_id}
  GET  /_mock/requests, /_mock/notes                    what happened, for assertions
  POST /_mock/fail                                      {"status": 500, "count": N}:
       the next N API requests answer that status (count -1: all of them)
API routes need `PRIVATE-TOKEN: <--token>` (401 otherwise, as GitLab).
Prints the port on stdout once listening.
"""

import argparse
import json
import re
import sys
import threading
import time

from serve_mock import JsonHandler, serve

ARGS = None
LOCK = threading.Lock()
REQUESTS = []
NOTES = {}  # id -> {"id", "body", "project", "mr", "system", "author"}
NEXT_ID = [500]
FAIL = {"status": 0, "count": 0}

NOTES_RE = re.compile(r"/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes")
NOTE_RE = re.compile(r"/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)")


def add_note(project, mr, body, system=False):
    NEXT_ID[0] += 1
    note = {
        "id": NEXT_ID[0],
        "body": body,
        "project": project,
        "mr": mr,
        "system": system,
        "author": {"username": "project_42_bot"},
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
    }
    NOTES[note["id"]] = note
    return note


class Handler(JsonHandler):
    def handle_any(self, method):
        url, query, body = self.read_request()
        path = url.path
        token = self.headers.get("PRIVATE-TOKEN")
        if path.startswith("/_mock/"):
            with LOCK:
                if path == "/_mock/requests":
                    return self.reply(200, REQUESTS)
                if path == "/_mock/notes":
                    return self.reply(200, sorted(NOTES.values(), key=lambda n: n["id"]))
                if path == "/_mock/fail" and method == "POST":
                    FAIL.update(json.loads(body))
                    return self.reply(200, FAIL)
            return self.reply(404, {"message": "404 Not Found"})
        with LOCK:
            REQUESTS.append(
                {
                    "method": method,
                    "path": path,
                    "query": url.query,
                    "token_ok": token == ARGS.token,
                    "authorization": self.headers.get("Authorization"),
                }
            )
            if FAIL["count"] != 0:
                if FAIL["count"] > 0:
                    FAIL["count"] -= 1
                return self.reply(FAIL["status"], {"message": "500 Internal Server Error"})
        if token != ARGS.token:
            return self.reply(401, {"message": "401 Unauthorized"})
        m = NOTE_RE.fullmatch(path)
        if m:
            project, mr, nid = m.group(1), int(m.group(2)), int(m.group(3))
            time.sleep(ARGS.latency)
            with LOCK:
                note = NOTES.get(nid)
                if not note or note["project"] != project or note["mr"] != mr:
                    return self.reply(404, {"message": "404 Not found"})
                if method == "PUT":
                    note["body"] = json.loads(body)["body"]
                    return self.reply(200, note)
                if method == "DELETE":
                    del NOTES[nid]
                    return self.reply(204)
            return self.reply(405, {"message": "405 Method Not Allowed"})
        m = NOTES_RE.fullmatch(path)
        if m:
            project, mr = m.group(1), int(m.group(2))
            if method == "GET":
                page = int(query.get("page", ["1"])[0])
                per_page = min(int(query.get("per_page", ["20"])[0]), 100)
                if ARGS.per_page_cap:
                    per_page = min(per_page, ARGS.per_page_cap)
                # GitLab's default is newest first.
                asc = query.get("sort", ["desc"])[0] == "asc"
                with LOCK:
                    items = sorted(
                        (n for n in NOTES.values() if n["project"] == project and n["mr"] == mr),
                        key=lambda n: n["id"],
                        reverse=not asc,
                    )
                chunk = items[(page - 1) * per_page : page * per_page]
                more = page * per_page < len(items)
                headers = [
                    ("X-Page", str(page)),
                    ("X-Per-Page", str(per_page)),
                    ("X-Total", str(len(items))),
                    ("X-Next-Page", str(page + 1) if more else ""),
                ]
                return self.reply(200, chunk, headers)
            if method == "POST":
                time.sleep(ARGS.latency)
                with LOCK:
                    note = add_note(project, mr, json.loads(body)["body"])
                return self.reply(201, note)
        return self.reply(404, {"message": f"mock: no route {method} {path}"})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token", default="glpat-mock-token")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to note writes")
    p.add_argument("--per-page-cap", type=int, default=0, help="serve at most this many notes a page")
    p.add_argument("--noise", type=int, default=0, help="notes of other users on --noise-mr first")
    p.add_argument("--noise-project", default="42")
    p.add_argument("--noise-mr", type=int, default=7)
    ARGS = p.parse_args()
    for i in range(ARGS.noise):
        add_note(ARGS.noise_project, ARGS.noise_mr, f"a reviewer's note {i}", system=i % 3 == 0)
    serve(Handler, ARGS.port)


if __name__ == "__main__":
    sys.exit(main())
