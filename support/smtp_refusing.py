"""A real SMTP server on 127.0.0.1 that refuses recipients with a given reply."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller

from support.receivers import free_port


class _Refuser:
    def __init__(self, reply: str, only: str | None) -> None:
        self.reply = reply
        self.only = only
        self.accepted: list[str] = []  # recipients of the messages taken

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.only is not None and address != self.only:
            envelope.rcpt_tos.append(address)
            return "250 OK"
        return self.reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted += envelope.rcpt_tos
        return "250 Message accepted"


@contextmanager
def refusing_smtp_server(reply: str) -> Iterator[str]:
    """A mailto:// URL for a server that answers RCPT with `reply` ("550 …")."""
    with _serve(_Refuser(reply, None)) as url:
        yield url


@contextmanager
def partly_refusing_smtp_server(reply: str, only: str) -> Iterator[tuple[_Refuser, str]]:
    """A server refusing only the recipient `only`; also yields who got the message."""
    refuser = _Refuser(reply, only)
    with _serve(refuser) as url:
        yield refuser, url


@contextmanager
def _serve(refuser: _Refuser) -> Iterator[str]:
    port = free_port()
    controller = Controller(refuser, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"mailto://127.0.0.1:{port}?mode=insecure&from=monitor@example.test&to=editor@example.test"
    finally:
        controller.stop()
