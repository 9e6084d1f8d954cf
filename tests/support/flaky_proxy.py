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
  putlost  a PUT: forward it, then answer 503 SlowDown instead of the
           server's answer (the write landed; the client retries)
  put412anyway  a PUT: forward it without If-None-Match / If-Match, then
           answer 412 PreconditionFailed (a refusal that landed anyway)
  missing403  a GET the server answers 404: answer 403 AccessDenied instead,
           as AWS S3 does to a caller without ListBucket on the key

Listing faults apply to ListObjectsV2 (a GET with list-type=2) whose path and
query contain MATCH. The prefix travels URL-encoded in the query, so MATCH is
an encoded fragment: prefix=reports%2Fp%2F, not reports/p/. Each rewrites the
request's max-keys to N (SECS as N, 2 when 0) so a small listing spans pages:

  pages        small pages, nothing else
  listrepeat   small pages; a request with a continuation-token is answered
               with that same token as NextContinuationToken, IsTruncated true
  listnotoken  small pages; the answer loses NextContinuationToken while
               IsTruncated is true
  listloop     small pages; every request is answered with the first page
               (forwarded without its continuation-token), IsTruncated true
               and a new token each time (loop-1, loop-2...): keys repeat,
               tokens never do
  listforeign  the answer gains a <Contents> entry for zz-outside/key, outside
               the prefix asked for (no page-size change)

  versionsrepeat  ListObjectVersions (a GET with ?versions): one version a
               page, IsTruncated true, and the request's own key and version
               markers given back as the next ones (none on a first page)

The request faults change the query the client signed: moto and s3rver do
not check that signature, s3s-fs refuses it (403 SignatureDoesNotMatch) unless
the client already asked for max-keys=N on a first page. listforeign changes
only the answer and works in front of every server.

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
PRECONDITION = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>'
ACCESS_DENIED = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
INTERNAL = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>'


LIST_KINDS = ("pages", "listrepeat", "listnotoken", "listloop", "listforeign")
loop_tokens = {"next": 0}


def take_list(path):
    """The listing fault due for the request `path` (with its query), if any."""
    split = urllib.parse.urlsplit(path)
    query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
    if query.get("list-type") != ["2"]:
        return None
    for kind in LIST_KINDS:
        fault = take(kind, path)
        if fault:
            return fault
    return None


def with_query(path, set_params, drop=()):
    """`path` with query parameters set or dropped, the others kept verbatim."""
    base, _, query = path.partition("?")
    names = set(set_params) | set(drop)
    kept = [p for p in query.split("&") if p and urllib.parse.unquote(p.partition("=")[0]) not in names]
    kept += [f"{k}={urllib.parse.quote(str(v), safe='')}" for k, v in set_params.items()]
    return base + "?" + "&".join(kept)


def xml_text(value):
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def set_element(xml, name, value):
    """`xml` (one ListBucketResult) with element `name` set to `value`
    (added after IsTruncated when missing), or removed when value is None."""
    pattern = re.compile(rf"<{name}>.*?</{name}>|<{name}/>", re.S)
    if value is None:
        return pattern.sub("", xml)
    element = f"<{name}>{xml_text(value)}</{name}>"
    if pattern.search(xml):
        return pattern.sub(lambda _: element, xml, count=1)
    return xml.replace("</IsTruncated>", "</IsTruncated>" + element, 1)


def list_fault(fault, path):
    """The request path to forward and a function rewriting the answer."""
    kind = fault["kind"]
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("continuation-token", [None])[0]
    if kind == "listforeign":
        return path, foreign_entry
    size = int(fault["secs"]) or 2
    if kind == "listloop":
        path = with_query(path, {"max-keys": size}, drop=("continuation-token", "start-after"))
    else:
        path = with_query(path, {"max-keys": size})

    def rewrite(xml):
        if kind == "listrepeat" and token is not None:
            xml = set_element(xml, "IsTruncated", "true")
            return set_element(xml, "NextContinuationToken", token)
        if kind == "listnotoken":
            xml = set_element(xml, "IsTruncated", "true")
            return set_element(xml, "NextContinuationToken", None)
        if kind == "listloop":
            with lock:
                loop_tokens["next"] += 1
                fresh = f"loop-{loop_tokens['next']}"
            xml = set_element(xml, "IsTruncated", "true")
            return set_element(xml, "NextContinuationToken", fresh)
        return xml

    return path, rewrite


def versions_repeat(query):
    """A rewrite of a ListVersionsResult that gives the request's markers back."""
    def rewrite(xml):
        xml = set_element(xml, "IsTruncated", "true")
        xml = set_element(xml, "NextKeyMarker", query.get("key-marker", [None])[0])
        return set_element(xml, "NextVersionIdMarker", query.get("version-id-marker", [None])[0])
    return rewrite


def foreign_entry(xml):
    """A <Contents> entry outside any prefix, as a server ignoring `prefix` would."""
    entry = ("<Contents><Key>zz-outside/key</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
             '<ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>')
    count_match = re.search(r"<KeyCount>(\d+)</KeyCount>", xml)
    if count_match:
        xml = set_element(xml, "KeyCount", str(int(count_match.group(1)) + 1))
    return xml.replace("</ListBucketResult>", entry + "</ListBucketResult>", 1)


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
        if self.command == "PUT" and take("putlost", self.path):
            self._forward("PUT", self.path, body, dict(self.headers.items()))
            return self._reply(503, SLOWDOWN, {"Content-Type": "application/xml"})
        if self.command == "PUT" and take("put412anyway", self.path):
            unconditional = {k: v for k, v in self.headers.items()
                             if k.lower() not in ("if-none-match", "if-match")}
            self._forward("PUT", self.path, body, unconditional)
            return self._reply(412, PRECONDITION, {"Content-Type": "application/xml"})
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
        path, rewrite = self.path, None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
        if self.command == "GET" and "versions" in query and take("versionsrepeat", self.path):
            path, rewrite = with_query(self.path, {"max-keys": 1}), versions_repeat(query)
        listing = self.command == "GET" and take_list(self.path)
        if listing:
            path, rewrite = list_fault(listing, self.path)
        status, data, out = self._forward(self.command, path, body, dict(self.headers.items()))
        if self.command == "GET" and status == 404 and take("missing403", self.path):
            return self._reply(403, ACCESS_DENIED, {"Content-Type": "application/xml"})
        if rewrite and status == 200:
            data = rewrite(data.decode()).encode()
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
