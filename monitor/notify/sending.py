"""Sending one message to one target through apprise."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

EMAIL_SCHEMES = ("mailto", "mailtos", "email")
KEY_HEADER = "X-Article-Monitor-Alert"
SLACK_S = 5.0  # beyond the plugin's own timeouts, before a send is abandoned

# (url, subject, body, body_format, alert key) -> None on success, else why it failed
Sender = Callable[[str, str, str, str, str], Awaitable[str | None]]


def is_email(url: str) -> bool:
    return url.split("://", 1)[0].lower() in EMAIL_SCHEMES


def body_format(email: bool) -> str:
    return "html" if email else "markdown"


async def apprise_send(
    url: str, subject: str, body: str, fmt: str, key: str = "", timeout: float = 30.0
) -> str | None:
    """Send one message to one target; None on success, else why it failed."""
    import apprise

    # A fresh object per send: plugins otherwise sleep between sends to one object.
    ap = apprise.Apprise()
    if not ap.add(_with_timeouts(_with_key(url, key), timeout)):
        return "invalid notification URL"
    for server in ap:
        server.request_rate_per_sec = 0
    try:
        # The plugin itself gives up at `timeout` (cto/rto); this outer bound only
        # catches a plugin that ignores them.
        result = await asyncio.wait_for(
            ap.async_notify(body=body, title=subject, body_format=fmt), timeout + SLACK_S
        )
    except TimeoutError:
        return f"timed out after {timeout:g} s"
    return None if result else f"delivery failed ({_status(result)})"


def _with_timeouts(url: str, timeout: float) -> str:
    """Our send timeout as the plugin's own connect and read timeouts: without them a
    plugin gives up after its default (about 4 s) whatever we allow, or never."""
    query = url.split("?", 1)[1] if "?" in url else ""
    names = {part.split("=", 1)[0].lower() for part in query.split("&") if part}
    extra = [f"{name}={timeout:g}" for name in ("cto", "rto") if name not in names]
    if not extra:
        return url
    return f"{url}{'&' if '?' in url else '?'}{'&'.join(extra)}"


def _with_key(url: str, key: str) -> str:
    """The target URL with the alert key as a custom header (apprise's `+Name=value`);
    plugins without custom headers ignore it."""
    if not key:
        return url
    return f"{url}{'&' if '?' in url else '?'}%2B{KEY_HEADER}={key}"


def _status(result: object) -> str:
    status = getattr(result, "status", None)
    return str(getattr(status, "name", status) or "failure").lower()
