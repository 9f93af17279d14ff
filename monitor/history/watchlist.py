"""Which articles are watched: adding URLs."""

from __future__ import annotations

from urllib.parse import urlsplit

from monitor.clock import now_ms
from monitor.config import Config
from monitor.errors import FetchError, UrlError
from monitor.fetching.addresses import AddressPolicy
from monitor.storage.database import Store
from monitor.urls import normalize


def add_urls(
    store: Store, urls: list[str], config: Config | None = None
) -> tuple[int, int, list[str]]:
    """Register URLs; return (added, already known, one error line per bad URL).
    URLs on private addresses are refused unless the settings allow them or a mirror
    rule fetches them elsewhere."""
    config = config or Config()
    added, known, errors = 0, 0, []
    now = now_ms()
    with store.write():
        for raw in urls:
            try:
                url = normalize(raw)
                _refuse_private(config, url)
            except (UrlError, FetchError) as exc:
                errors.append(f"{raw!r}: {exc}")
                continue
            _, created = store.ensure_article(url, now)
            added += created
            known += not created
    return added, known, errors


def _refuse_private(config: Config, url: str) -> None:
    if config.fetch_url(url) != url:
        return  # fetched through a mirror the user chose
    parts = urlsplit(url)
    policy = AddressPolicy(config.fetch.allow_private_addresses)
    policy.check_host(parts.hostname or "", parts.port or 443)
