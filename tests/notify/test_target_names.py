"""Targets shown as written, with only their secrets hidden; failures in the service's
own words."""

from __future__ import annotations

import asyncio

import pytest

from monitor.masking import mask_url
from monitor.notify.sending import apprise_send
from support.receivers import webhook


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (
            "mailto://user:hunter2@smtp.example.org?from=monitor@example.org&to=desk@example.org",
            "mailto://user:****@smtp.example.org?from=monitor@example.org&to=desk@example.org",
        ),
        (
            "mailto://127.0.0.1:2525?mode=insecure&from=m@example.test&to=e@example.test",
            "mailto://127.0.0.1:2525?mode=insecure&from=m@example.test&to=e@example.test",
        ),
        (
            "mailto://user:pass@smtp.example.org?pass=pass",
            "mailto://user:****@smtp.example.org?pass=****",
        ),
        ("json://alice:hunter2secret@127.0.0.1:9/hook", "json://alice:****@127.0.0.1:9/hook"),
        ("tgram://123456789:AAbbCCdd/987654321", "tgram://****/987654321"),
        ("discord://123456789/abcdefghijk", "discord://****/****"),
        (
            "ntfy://ntfy.example.org/edits?token=tk_abc123",
            "ntfy://ntfy.example.org/edits?token=****",
        ),
        ("nosuchservice://token@abc", "nosuchservice://****"),  # unknown shape: all hidden
    ],
)
def test_a_target_is_shown_as_written_with_its_secret_hidden(written: str, shown: str) -> None:
    assert mask_url(written) == shown


def test_a_webhook_failure_carries_the_http_status() -> None:
    with webhook() as hook:
        hook.fail_with = [503]
        error = asyncio.run(apprise_send(hook.url, "s", "**x**", "markdown", "1.1", 20))
    assert error is not None and "503" in error


def test_a_connection_failure_says_so_without_the_secret() -> None:
    url = "json://alice:hunter2secret@127.0.0.1:9/hook"  # port 9: connection refused
    error = asyncio.run(apprise_send(url, "s", "**x**", "markdown", "1.1", 20))
    assert error is not None and "connection" in error.lower()
    assert "hunter2secret" not in error
