"""Secrets out of sight: notification URLs carry tokens and passwords, so every URL
the monitor prints, logs or stores as an error goes through here first."""

from __future__ import annotations

import re


def mask_url(url: str) -> str:
    """A notification URL with its secrets hidden, for logs and output."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url)
    except Exception:  # apprise rejects what it cannot parse in many ways
        plugin = None
    if not plugin:
        return f"{scheme}://****"
    masked: str = plugin.url(privacy=True)  # type: ignore[no-untyped-call]
    return masked


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s@]+)@")


def mask_credentials(text: str) -> str:
    """Every `scheme://user:password@` in a text with the password hidden, and a lone
    `scheme://token@` with the token hidden (mirror rules and redirect targets can
    carry them into errors, logs and messages)."""
    return _USERINFO.sub(_masked_userinfo, text)


def _masked_userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match.group(2).partition(":")
    return f"{match.group(1)}{user}:****@" if colon else f"{match.group(1)}****@"
