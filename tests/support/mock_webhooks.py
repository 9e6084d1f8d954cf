#!/usr/bin/env python3
"""A stand-in for chat webhooks (Slack, Teams, Google Chat) and a generic
receiver, for tests: the services cannot be reached from CI here.

Serves, on 127.0.0.1:<port>:
  POST /ok/<anything>          200
  POST /fail/<anything>        500 every time
  POST /flaky/<anything>       503 with Retry-After: 1 the first time, then 200
  POST /echo/<anything>        400 quoting the request's own path back
  GET  /_mock/requests         every POST: path, headers, parsed body
Prints the port on stdout once listening, and exits with its parent.
"""
import json
import sys
import threading

from serve_mock import JsonHandler, serve

LOCK = threading.Lock()
REQUESTS = []
SEEN = set()


class Handler(JsonHandler):
    def handle_any(self, method):
        url, _, raw = self.read_request()
        if method == "GET" and url.path == "/_mock/requests":
            with LOCK:
                return self.reply(200, REQUESTS)
        if method != "POST":
            return self.reply(405, {"error": "POST only"})
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with LOCK:
            REQUESTS.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "user_agent": self.headers.get("User-Agent"),
                    "bytes": len(raw),
                    "body": body,
                }
            )
            first = self.path not in SEEN
            SEEN.add(self.path)
        if body is None:
            return self.reply(400, {"error": "invalid_payload"})
        if self.path.startswith("/ok/"):
            return self.reply(200, b"ok")
        if self.path.startswith("/fail/"):
            return self.reply(500, {"error": "internal"})
        if self.path.startswith("/flaky/"):
            if first:
                return self.reply(503, {"error": "busy"}, [("Retry-After", "1")])
            return self.reply(200, b"ok")
        if self.path.startswith("/echo/"):
            return self.reply(400, {"error": f"no such hook {self.path}"})
        return self.reply(404, {"error": "no route"})


if __name__ == "__main__":
    sys.exit(serve(Handler))
