"""Real HTTP servers on loopback addresses: pages a test can change between checks
(some served a byte at a time), and a notification receiver that never answers in time."""

from __future__ import annotations

import contextlib
import json
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
    trickle_s: float = 0.0  # send the whole response one byte every this many seconds


class PageServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.in_progress = 0  # requests being answered now
        self.most_in_progress = 0  # the most ever answered at once
        self.stop = threading.Event()  # set on shutdown: trickling responses end
        self._count = threading.Lock()
        server = ThreadingHTTPServer((host, 0), self._handler())
        server.daemon_threads = True
        self.server = server
        self.port = server.server_address[1]
        self.base = f"http://{host}:{self.port}/"

    def _enter(self) -> None:
        with self._count:
            self.in_progress += 1
            self.most_in_progress = max(self.most_in_progress, self.in_progress)

    def _leave(self) -> None:
        with self._count:
            self.in_progress -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer._enter()
                try:
                    self._get()
                finally:
                    outer._leave()

            def _get(self) -> None:
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
                if route.trickle_s:
                    self._trickle(route)
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

            def _trickle(self, route: Route) -> None:
                """The status line, headers and body, one byte at a time."""
                head = (
                    f"HTTP/1.1 {route.status} OK\r\nContent-Type: {route.content_type}\r\n"
                    f"Content-Length: {len(route.body)}\r\nConnection: close\r\n\r\n"
                )
                self.close_connection = True
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    for byte in head.encode() + route.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        if outer.stop.wait(route.trickle_s):
                            return

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@contextmanager
def page_server(host: str = "127.0.0.1") -> Iterator[PageServer]:
    server = PageServer(host)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.server.shutdown()
        server.server.server_close()


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() when the request's headers were read
    key: str | None  # its X-Article-Monitor-Alert header
    body: dict[str, object]


class StallingReceiver:
    """A webhook endpoint (json:// target) that records when each request arrives,
    then answers only after `stall_s`: every sender times out first."""

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        self.arrivals: list[Arrival] = []
        self.release = threading.Event()  # set on shutdown: stalled handlers end now
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("X-Article-Monitor-Alert")
                outer.arrivals.append(Arrival(at, key, json.loads(body or b"{}")))
                outer.release.wait(outer.stall_s)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"json://127.0.0.1:{self.port}/hook"


@contextmanager
def stalling_receiver(stall_s: float = 40.0) -> Iterator[StallingReceiver]:
    receiver = StallingReceiver(stall_s)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        receiver.server.shutdown()
        receiver.server.server_close()
