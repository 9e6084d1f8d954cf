#!/usr/bin/env python3
"""A stand-in for chat webhooks (Slack, Teams, Google Chat) and a generic
receiver, for tests: the services cannot be reached from CI here.

Serves, on 127.0.0.1:<port>:
  POST /ok/<anything>          200 (Slack answers "ok", the others JSON)
  POST /fail/<anything>        500 every time
  POST /flaky/<anything>       503 with Retry-After: 1 the first time, then 200
  POST /echo/<anything>        400 quoting the request's own path back
  GET  /_mock/requests         every POST: path, headers, parsed body
Prints the port on stdout once listening, and exits with its parent.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
REQUESTS = []
SEEN = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, data, headers=()):
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_mock/requests":
            with LOCK:
                return self.reply(200, REQUESTS)
        return self.reply(404, {"error": "no route"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
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


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
