"""Forwards HTTP to an S3 server and injects the faults tests ask for:

  flaky_proxy.py HOST PORT EVERY [FAULT ...]

EVERY: every EVERY-th PutObject is answered with a 503 SlowDown or a 500
(alternately) instead of being forwarded; 0 for none. Each FAULT is
KIND:MATCH:COUNT[:SECS], applied to requests whose path contains MATCH,
COUNT times (-1: always):

  reset    a PUT: read half its body, then reset the connection (RST)
  stall    any request: read it whole, answer nothing for SECS, then close
           (the request never reaches the server)
  get500   a GET: answer 500 InternalError
  slow     a PUT: read its body at SECS KiB/s, shared by every slow PUT in
           flight (a slow uplink), then forward it
  delete   DeleteObjects: report an InternalError for each key containing
           MATCH (that key is not deleted); the other keys are deleted

GET /__faults gives the number of faults injected; GET /__stats the count
per kind, as JSON. The first line printed is the port."""
import http.client
import json
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

upstream_host, upstream_port, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
faults = []
for spec in sys.argv[4:]:
    kind, match, count, *rest = spec.split(":")
    faults.append({"kind": kind, "match": match, "left": int(count),
                   "secs": float(rest[0]) if rest else 0.0})
lock = threading.Lock()
count = {"put": 0, "faults": 0}
stats = {}

SLOWDOWN = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
INTERNAL = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>'


def take(kind, text):
    """True when a fault of `kind` matching `text` is due (and counts it)."""
    with lock:
        for f in faults:
            if f["kind"] == kind and f["match"] in text and f["left"] != 0:
                if f["left"] > 0:
                    f["left"] -= 1
                count["faults"] += 1
                stats[kind] = stats.get(kind, 0) + 1
                return f
    return None


uplink = {"free_at": 0.0}


def throttled_read(rfile, length, rate):
    """Read `length` bytes, no faster than `rate` bytes/s over all callers."""
    parts, left = [], length
    while left > 0:
        n = min(8192, left)
        parts.append(rfile.read(n))
        left -= n
        with lock:
            now = time.monotonic()
            uplink["free_at"] = max(now, uplink["free_at"]) + n / rate
            until = uplink["free_at"]
        time.sleep(max(0.0, until - now))
    return b"".join(parts)


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (OSError, ValueError):
            pass  # a connection this proxy reset or the client gave up

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.command == "PUT" and take("reset", self.path):
            self.rfile.read(length // 2)
            return self._reset()
        slow = self.command == "PUT" and take("slow", self.path)
        if slow:
            body = throttled_read(self.rfile, length, slow["secs"] * 1024)
        else:
            body = self.rfile.read(length) if length else b""
        if self.path == "/__faults":
            return self._reply(200, str(count["faults"]).encode(), {})
        if self.path == "/__stats":
            return self._reply(200, json.dumps(stats).encode(), {})
        stall = take("stall", self.path)
        if stall:
            time.sleep(stall["secs"])
            self.close_connection = True
            return
        if self.command == "GET" and take("get500", self.path):
            return self._reply(500, INTERNAL, {"Content-Type": "application/xml"})
        if self.command == "POST" and "delete" in urllib.parse.urlsplit(self.path).query:
            return self._delete_objects(body)
        if self.command == "PUT" and every:
            with lock:
                count["put"] += 1
                fault = count["put"] % every == 0
                if fault:
                    count["faults"] += 1
                    stats["put5xx"] = stats.get("put5xx", 0) + 1
            if fault:
                status, payload = (503, SLOWDOWN) if count["faults"] % 2 else (500, INTERNAL)
                return self._reply(status, payload, {"Content-Type": "application/xml"})
        status, data, out = self._forward(self.command, self.path, body, dict(self.headers.items()))
        self._reply(status, data, out)

    def _forward(self, method, path, body, headers):
        conn = http.client.HTTPConnection(upstream_host, upstream_port)
        headers = {k: v for k, v in headers.items() if k.lower() != "connection"}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out = {k: v for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")}
        conn.close()
        return resp.status, data, out

    def _delete_objects(self, body):
        """DeleteObjects, key by key upstream, with per-key errors injected."""
        bucket = urllib.parse.urlsplit(self.path).path.strip("/")
        keys = [k.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")
                for k in re.findall(r"<Key>(.*?)</Key>", body.decode())]
        quiet = b"<Quiet>true</Quiet>" in body
        # moto reads who asks from the credentials; it does not check the
        # signature, which covered the original request.
        auth = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "x-amz-date", "x-amz-security-token")}
        parts = []
        for key in keys:
            esc = key.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            if take("delete", key):
                parts.append(f"<Error><Key>{esc}</Key><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>")
                continue
            status, _, _ = self._forward("DELETE", f"/{bucket}/{urllib.parse.quote(key)}", b"", auth)
            if status >= 300:
                parts.append(f"<Error><Key>{esc}</Key><Code>InternalError</Code><Message>upstream {status}</Message></Error>")
            elif not quiet:
                parts.append(f"<Deleted><Key>{esc}</Key></Deleted>")
        xml = ('<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
               + "".join(parts) + "</DeleteResult>")
        self._reply(200, xml.encode(), {"Content-Type": "application/xml"})

    def _reset(self):
        # SO_LINGER with a zero timeout: close() sends a RST, not a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _reply(self, status, data, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(server.server_address[1], flush=True)
server.serve_forever()
