"""Which articles are watched: adding URLs."""

from __future__ import annotations

from monitor.clock import now_ms
from monitor.errors import UrlError
from monitor.storage.database import Store
from monitor.urls import normalize


def add_urls(store: Store, urls: list[str]) -> tuple[int, int, list[str]]:
    """Register URLs; return (added, already known, one error line per bad URL)."""
    added, known, errors = 0, 0, []
    now = now_ms()
    with store.write():
        for raw in urls:
            try:
                url = normalize(raw)
            except UrlError as exc:
                errors.append(f"{raw!r}: {exc}")
                continue
            _, created = store.ensure_article(url, now)
            added += created
            known += not created
    return added, known, errors
