"""Secrets out of sight: notification URLs carry tokens and passwords, so every URL
the monitor prints, logs or stores as an error goes through here first."""

from __future__ import annotations


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
