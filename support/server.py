"""A real HTTP server on 127.0.0.1 whose pages a test can change between checks."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None
    fail_first: list[int] = field(default_factory=list)  # statuses to send before success
    stall_first_s: float = 0.0  # delay the first response (a timeout)
    redirect_to: str | None = None
    custom: Callable[[BaseHTTPRequestHandler], None] | None = None  # hostile behaviours


class PageServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        self.server = server
        self.port = server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                route = outer.routes.get(self.path)
                if route is None:
                    self._send(404, b"<html><body>not found</body></html>", "text/html")
                    return
                if route.stall_first_s:
                    stall, route.stall_first_s = route.stall_first_s, 0.0
                    time.sleep(stall)
                if route.custom is not None:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        route.custom(self)
                    return
                if route.redirect_to:
                    self.send_response(301)
                    self.send_header("Location", route.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.fail_first:
                    self._send(route.fail_first.pop(0), b"busy", "text/plain")
                    return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self._send(304, b"", None, route.etag)
                    return
                self._send(route.status, route.body, route.content_type, route.etag)

            def _send(
                self, status: int, body: bytes, ctype: str | None, etag: str | None = None
            ) -> None:
                try:
                    self.send_response(status)
                    if ctype:
                        self.send_header("Content-Type", ctype)
                    if etag:
                        self.send_header("ETag", etag)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@contextmanager
def page_server() -> Iterator[PageServer]:
    server = PageServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
