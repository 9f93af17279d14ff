"""Secrets out of sight: notification URLs carry tokens and passwords, so every URL
the monitor prints, logs or stores as an error goes through here first."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

HIDDEN = "****"


def mask_url(url: str) -> str:
    """A notification URL as the user wrote it, with only its secrets hidden.

    Which parts are secret is the service's to say: apprise marks them in each plugin
    (a password, a bot token, a webhook's id and token). A URL apprise cannot parse
    has no known shape, so all of it but the scheme is hidden."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url)
    except Exception:  # apprise rejects what it cannot parse in many ways
        plugin = None
    if not plugin:
        return f"{scheme}://{HIDDEN}"
    rest = url.split("://", 1)[1]
    # Longest first: a secret that contains another is hidden whole.
    for secret in sorted(_secrets(plugin), key=len, reverse=True):
        for form in dict.fromkeys([secret, quote(secret, safe=""), quote(secret)]):
            rest = _whole(form).sub(HIDDEN, rest)
    # A `user:password@` the plugin did not call secret is hidden all the same.
    return _USERINFO.sub(_masked_password, f"{scheme}://{rest}")


_DELIMITERS = "/:@?&=#,"


def _whole(text: str) -> re.Pattern[str]:
    """`text` as a whole part of a URL (between delimiters), never a query's name: a
    short password must not also hide `?pass=` or part of a host."""
    return re.compile(f"(?<![^{_DELIMITERS}]){re.escape(text)}(?![^{_DELIMITERS}]|=)")


def _secrets(plugin: Any) -> set[str]:
    """The values of the plugin's private settings, as parsed from the URL."""
    found: set[str] = set()
    tokens: dict[str, dict[str, Any]] = getattr(plugin, "template_tokens", {}) or {}
    for name, spec in tokens.items():
        if not spec.get("private"):
            continue
        value = getattr(plugin, str(spec.get("map_to", name)), None)
        values = value if isinstance(value, list | tuple | set) else [value]
        found.update(str(v) for v in values if isinstance(v, str | int) and str(v))
    return found


# Userinfo ends at the first `@` before any path, query or fragment.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#\s@]+)@")


def mask_credentials(text: str) -> str:
    """Every `scheme://user:password@` in a text with the password hidden, and a lone
    `scheme://token@` with the token hidden (mirror rules and redirect targets can
    carry them into errors, logs and messages)."""
    return _USERINFO.sub(_masked_userinfo, text)


def _masked_userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match.group(2).partition(":")
    return f"{match.group(1)}{user}:{HIDDEN}@" if colon else f"{match.group(1)}{HIDDEN}@"


def _masked_password(match: re.Match[str]) -> str:
    user, colon, _ = match.group(2).partition(":")
    return f"{match.group(1)}{user}:{HIDDEN}@" if colon else match.group(0)
