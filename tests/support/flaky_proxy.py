"""Forwards HTTP to an S3 server, answering every Nth PutObject with a 503
SlowDown or a 500 first, so tests can prove the publisher retries."""
import http.client
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

upstream_host, upstream_port, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lock = threading.Lock()
count = {"put": 0, "faults": 0}

SLOWDOWN = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
INTERNAL = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>'


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/__faults":
            return self._reply(200, str(count["faults"]).encode(), {})
        if self.command == "PUT":
            with lock:
                count["put"] += 1
                fault = count["put"] % every == 0
                if fault:
                    count["faults"] += 1
            if fault:
                status, payload = (503, SLOWDOWN) if count["faults"] % 2 else (500, INTERNAL)
                return self._reply(status, payload, {"Content-Type": "application/xml"})
        conn = http.client.HTTPConnection(upstream_host, upstream_port)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out = {k: v for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")}
        self._reply(resp.status, data, out)
        conn.close()

    def _reply(self, status, data, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(server.server_address[1], flush=True)
server.serve_forever()
