"""A TCP relay in front of the S3 server that counts every request by kind.

Counting happens on the server side of every client, so a tool cannot
under-report itself. Bytes are relayed untouched (SigV4 signs the Host header,
which the relay passes through as is); only the request framing is parsed, to
find where one request ends and the next begins on a kept-alive connection.
"""

import asyncio
import threading
from collections import Counter
from urllib.parse import parse_qs, urlsplit

CHUNK = 256 * 1024

# Operations that change the bucket; S3 bills them (with LIST) at the higher rate.
WRITES = {"PutObject", "CopyObject", "DeleteObject", "DeleteObjects", "CreateMultipartUpload",
          "UploadPart", "CompleteMultipartUpload", "PutObjectTagging", "CreateBucket"}


def classify(method: str, target: str, headers: dict[str, str]) -> str:
    """The S3 operation of a path-style request."""
    url = urlsplit(target)
    query = parse_qs(url.query, keep_blank_values=True)
    parts = url.path.lstrip("/").split("/", 1)
    has_key = len(parts) == 2 and parts[1] != ""
    if method == "GET":
        if not has_key:
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        return "GetObjectTagging" if "tagging" in query else "GetObject"
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    if method == "PUT":
        if not has_key:
            return "CreateBucket"
        if "partNumber" in query:
            return "UploadPart"
        if "tagging" in query:
            return "PutObjectTagging"
        return "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
    if method == "POST":
        if "delete" in query:
            return "DeleteObjects"
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
    if method == "DELETE":
        return "DeleteObject" if has_key else "DeleteBucket"
    return f"{method} other"


class CountingProxy:
    """Runs on its own thread; `take()` returns the counts so far and resets them."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.port = 0
        self._ready = threading.Event()
        # asyncio holds tasks weakly; these keep every relay alive until done.
        self._tasks: set[asyncio.Task] = set()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait()

    def take(self) -> Counter:
        with self.lock:
            counts, self.counts = self.counts, Counter()
        return counts

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, limit=CHUNK)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def _serve(self, client_r, client_w) -> None:
        task = asyncio.ensure_future(self._relay(client_r, client_w))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _relay(self, client_r, client_w) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            return
        back = asyncio.ensure_future(_pipe(server_r, client_w))
        try:
            while await self._one_request(client_r, server_w):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            # The client has hung up: nothing more to send it.
            back.cancel()
            server_w.close()
            client_w.close()
            await asyncio.gather(back, return_exceptions=True)

    async def _one_request(self, r, w) -> bool:
        try:
            head = await r.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        with self.lock:
            self.counts[classify(method, target, headers)] += 1
        w.write(head)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            await _relay_chunked(r, w)
        else:
            await _relay_exact(r, w, int(headers.get("content-length", "0")))
        await w.drain()
        return True


async def _relay_exact(r, w, n: int) -> None:
    while n > 0:
        data = await r.read(min(n, CHUNK))
        if not data:
            raise ConnectionError("client closed mid-body")
        w.write(data)
        await w.drain()
        n -= len(data)


async def _relay_chunked(r, w) -> None:
    while True:
        size_line = await r.readuntil(b"\r\n")
        w.write(size_line)
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            # Trailers, then the blank line that ends the message.
            while True:
                line = await r.readuntil(b"\r\n")
                w.write(line)
                if line == b"\r\n":
                    return
        await _relay_exact(r, w, size + 2)


async def _pipe(r, w) -> None:
    try:
        while data := await r.read(CHUNK):
            w.write(data)
            await w.drain()
    except ConnectionError:
        pass
    finally:
        w.close()
