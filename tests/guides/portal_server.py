"""A local government portal for the crawler's tests and benchmark, on a loopback port.

It serves a directory rendered by :func:`govwatch.generator.portal.render_portal` (pages,
robots.txt, download files) over HTTP/1.1 from a threaded ``http.server``, the way a real
portal's web server would: ``ETag`` and ``Last-Modified`` on every file and 304 answers to
``If-None-Match`` / ``If-Modified-Since``, 404 for a file it does not have. On top of that a
test gives :class:`Behaviour`s by path: an error status, a slow answer, an answer that never
comes in time, a redirect (chains are redirects to redirects), a HEAD refused, a
``Content-Type`` without charset (a legacy server's GB18030 pages).

Every request is logged, in arrival order, with its method, path, arrival time
(``time.monotonic``), headers and the status answered: :meth:`PortalServer.hits`. That log is
what the tests assert the crawler's manners on (robots.txt, the rate limit, resuming).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip",
}
# every file's Last-Modified: fixed, so that a second crawl's If-Modified-Since matches
MODIFIED_AT = formatdate(1_780_000_000, usegmt=True)


@dataclass(frozen=True)
class Behaviour:
    """What the portal does for one path instead of (or before) serving its file.

    ``status``: answer this status (a small HTML body); ``delay_s``: wait first (a slow page,
    or with a delay beyond the client's timeout, a page that times out); ``redirect``: answer
    ``redirect_status`` with this Location; ``head_refused``: HEAD answered 405 (GET works);
    ``content_type``: served with this Content-Type instead of the extension's.
    """

    status: int | None = None
    delay_s: float = 0.0
    redirect: str | None = None
    redirect_status: int = 301
    head_refused: bool = False
    content_type: str | None = None


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    at: float
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, portal: PortalServer) -> None:
        self.portal = portal
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # a client that gave up (its timeout) before the answer: nothing to report


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body leave in two writes: without TCP_NODELAY the second waits for the
    # client's delayed acknowledgement (40 ms a response on Linux)
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return None  # the portal keeps its own log

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _send(self, status: int, headers: Mapping[str, str], body: bytes, head: bool) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def _answer(self, head: bool) -> None:
        portal = self.server.portal
        at = time.monotonic()
        path = unquote(urlsplit(self.path).path)
        status = 500
        try:
            status = self._serve(portal, path, head)
        except ConnectionError:
            status = 0  # the client hung up (timed out) before the answer
        finally:
            portal.record(
                Hit(self.command, path, at, {k.lower(): v for k, v in self.headers.items()}, status)
            )

    def _serve(self, portal: PortalServer, path: str, head: bool) -> int:
        how = portal.behaviours.get(path, Behaviour())
        if how.delay_s and portal.stopping.wait(how.delay_s):
            return 0  # the server is stopping
        if head and how.head_refused:
            self._send(405, {"Allow": "GET"}, b"", head)
            return 405
        if how.redirect is not None:
            self._send(how.redirect_status, {"Location": how.redirect}, b"", head)
            return how.redirect_status
        if how.status is not None:
            body = f"<html><body><h1>{how.status}</h1></body></html>".encode()
            self._send(how.status, {"Content-Type": "text/html; charset=utf-8"}, body, head)
            return how.status
        file = portal.file_for(path)
        if file is None:
            body = "<html><body><h1>404 页面不存在</h1></body></html>".encode()
            self._send(404, {"Content-Type": "text/html; charset=utf-8"}, body, head)
            return 404
        data = file.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        validators = {"ETag": etag, "Last-Modified": MODIFIED_AT}
        if self._unchanged(etag):
            self._send(304, validators, b"", head=True)
            return 304
        kind = how.content_type or portal.content_type(path, file)
        self._send(200, {"Content-Type": kind, **validators}, data, head)
        return 200

    def _unchanged(self, etag: str) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:
            return etag in [m.strip() for m in match.split(",")] or match.strip() == "*"
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return parsedate_to_datetime(since) >= parsedate_to_datetime(MODIFIED_AT)
        except (TypeError, ValueError):
            return False


class PortalServer:
    """A portal served from ``root`` on 127.0.0.1 (see the module docstring).

    ``content_types`` maps a path prefix to the Content-Type its HTML pages are served with
    (``{"/legacy/": "text/html"}``: no charset, the page's ``<meta>`` must tell)."""

    def __init__(
        self,
        root: Path,
        *,
        behaviours: Mapping[str, Behaviour] | None = None,
        content_types: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.behaviours: dict[str, Behaviour] = dict(behaviours or {})
        self.content_types = dict(content_types or {})
        self.stopping = threading.Event()
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> PortalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def record(self, hit: Hit) -> None:
        with self._lock:
            self._hits.append(hit)

    def hits(self) -> list[Hit]:
        """The request log so far, in arrival order."""
        with self._lock:
            return sorted(self._hits, key=lambda h: h.at)

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()

    def file_for(self, path: str) -> Path | None:
        target = (self.root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.root) or not target.is_file():
            return None
        return target

    def content_type(self, path: str, file: Path) -> str:
        kind = TYPES.get(file.suffix.lower(), "application/octet-stream")
        if file.suffix.lower() == ".html":
            for prefix, declared in self.content_types.items():
                if path.startswith(prefix):
                    return declared
        return kind
