"""What the Python mock servers of tests/support share: a JSON reply, and
serving on 127.0.0.1 (the port printed once listening) until the test
process that started the server is gone."""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class JsonHandler(BaseHTTPRequestHandler):
    """Every method goes to `handle_any(method)`, which a mock defines."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def log_message(self, *a):
        pass

    def read_request(self):
        """The request's parsed URL, its query (a dict of lists) and its body."""
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return url, parse_qs(url.query), body

    def reply(self, status, body=None, headers=()):
        """`body`: bytes as they are, anything else as JSON; None: empty."""
        raw = isinstance(body, bytes)
        data = b"" if body is None else (body if raw else json.dumps(body).encode())
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body is not None and not raw:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve(handler, port=0):
    """Serve `handler` on 127.0.0.1:`port` (0: a free one), print the port,
    and exit with the parent (the test process) so no server outlives it."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    print(server.server_address[1], flush=True)
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()
