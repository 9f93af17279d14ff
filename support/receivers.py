"""Real notification receivers on 127.0.0.1: an SMTP server and a webhook endpoint."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, str]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    url = (
        f"mailto://127.0.0.1:{port}?mode=insecure&from=monitor@example.test&to=editor@example.test"
    )
    try:
        yield mailbox, url
    finally:
        controller.stop()


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no HTML part"
    return str(part.get_content())


class Webhook:
    """Records JSON posts; answers with the statuses in `fail_with` first."""

    def __init__(self, port: int | None = None) -> None:
        self.posts: list[dict[str, Any]] = []
        self.keys: list[str | None] = []  # each post's X-Article-Monitor-Alert header
        self.fail_with: list[int] = []
        self.stall_first = 0  # requests answered only after `stall_seconds`, not recorded
        self.stall_seconds = 3.0
        # Each stalled request's key and body; `stalling` is set once one is being held,
        # and setting `release` ends every stall at once (then answered 504, as before).
        self.held: list[tuple[str | None, dict[str, Any]]] = []
        self.stalling = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.stall_first > 0:
                    outer.stall_first -= 1
                    outer.held.append(
                        (self.headers.get("X-Article-Monitor-Alert"), json.loads(body))
                    )
                    outer.stalling.set()
                    outer.release.wait(outer.stall_seconds)  # the client gives up first
                    self.send_response(504)
                    self.end_headers()
                    return
                status = outer.fail_with.pop(0) if outer.fail_with else 200
                if status == 200:
                    outer.posts.append(json.loads(body))
                    outer.keys.append(self.headers.get("X-Article-Monitor-Alert"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"json://127.0.0.1:{self.port}/hook"

    def once_each(self) -> list[dict[str, Any]]:
        """What a receiver that drops alert keys it has seen keeps: the first post of
        each key. A repeat must carry its first copy's key and message."""
        first: dict[str | None, dict[str, Any]] = {}
        for key, post in zip(self.keys, self.posts, strict=True):
            assert key, "a post without an alert key"
            assert first.setdefault(key, post) == post, f"key {key} reused for another message"
        return list(first.values())


@contextmanager
def webhook(port: int | None = None) -> Iterator[Webhook]:
    hook = Webhook(port)
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()
