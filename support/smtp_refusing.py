"""A real SMTP server on 127.0.0.1 that refuses every recipient with a given reply."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller

from support.receivers import free_port


class _Refuser:
    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return self.reply


@contextmanager
def refusing_smtp_server(reply: str) -> Iterator[str]:
    """A mailto:// URL for a server that answers RCPT with `reply` ("550 …")."""
    port = free_port()
    controller = Controller(_Refuser(reply), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"mailto://127.0.0.1:{port}?mode=insecure&from=monitor@example.test&to=editor@example.test"
    finally:
        controller.stop()
