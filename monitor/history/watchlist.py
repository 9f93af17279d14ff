"""Which articles are watched: adding URLs, pausing, resuming, removing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from monitor.clock import now_ms
from monitor.config import Config
from monitor.errors import FetchError, NotFound, UrlError
from monitor.fetching.addresses import AddressPolicy
from monitor.storage.articles import ArticleRow, Watch
from monitor.storage.database import Store
from monitor.urls import normalize

# A comment starts at a `#` that begins the line or follows a space: a `#` inside a
# URL is its fragment.
_COMMENT = re.compile(r"(?:^|\s)#.*$")

AddStatus = Literal["added", "known", "rewatched", "paused"]


@dataclass(frozen=True)
class UrlLine:
    """A URL to add and where it was given (for error messages)."""

    url: str
    where: str = ""  # "FILE:LINE", or "" for a command-line argument


@dataclass(frozen=True)
class AddedUrl:
    given: str
    url: str  # as stored: the canonical URL, or the known article's own
    status: AddStatus  # rewatched: had been removed; paused: known and paused


@dataclass
class AddReport:
    urls: list[AddedUrl] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(u.status == "added" for u in self.urls)

    @property
    def known(self) -> int:
        return len(self.urls) - self.added


def url_lines(lines: Iterable[str], source: str) -> list[UrlLine]:
    """The URLs of a list file: one a line; blank lines and `# comments` (whole-line or
    after the URL) skipped."""
    found = []
    for number, line in enumerate(lines, 1):
        text = _COMMENT.sub("", line).strip()
        if text:
            found.append(UrlLine(text, f"{source}:{number}"))
    return found


def add_urls(store: Store, urls: list[UrlLine], config: Config | None = None) -> AddReport:
    """Register URLs, keeping the scheme each was given with; an article already known
    (under either of http/https) is not added twice, and one that had been removed is
    watched again. URLs on private addresses are refused unless the settings allow
    them or a mirror rule fetches them elsewhere."""
    config = config or Config()
    report = AddReport()
    now = now_ms()
    with store.write():
        for line in urls:
            try:
                url = normalize(line.url)
                _refuse_private(config, url)
            except (UrlError, FetchError) as exc:
                where = f"{line.where}: " if line.where else ""
                report.errors.append(f"{where}{line.url!r}: {exc}")
                continue
            report.urls.append(_add_one(store, line.url, url, now))
    return report


def _add_one(store: Store, given: str, url: str, now: int) -> AddedUrl:
    known = store.known_url(url)
    if known is None:
        store.ensure_article(url, now)
        return AddedUrl(given, url, "added")
    row = store.resolve(known)
    if row.watch == "unwatched":
        store.set_watch(row.id, "watching")
        return AddedUrl(given, known, "rewatched")
    return AddedUrl(given, known, "paused" if row.watch == "paused" else "known")


def _refuse_private(config: Config, url: str) -> None:
    if config.fetch_url(url) != url:
        return  # fetched through a mirror the user chose
    parts = urlsplit(url)
    policy = AddressPolicy(config.fetch.allow_private_addresses)
    default_port = 443 if parts.scheme == "https" else 80
    policy.check_host(parts.hostname or "", parts.port or default_port)


@dataclass
class Resolved:
    """Articles found for a batch of references, and one error line per bad one."""

    rows: list[ArticleRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def resolve_all(store: Store, refs: Iterable[str]) -> Resolved:
    """Each reference (id or URL) to its article; a bad one does not stop the rest.
    An article named twice is taken once."""
    found = Resolved()
    seen: set[int] = set()
    for ref in refs:
        try:
            row = store.resolve(ref)
        except NotFound as exc:
            found.errors.append(str(exc))
            continue
        if row.id not in seen:
            seen.add(row.id)
            found.rows.append(row)
    return found


WatchChange = Literal["done", "already", "not watched", "rewatched"]


def set_watch(store: Store, rows: list[ArticleRow], watch: Watch) -> list[WatchChange]:
    """Pause, resume or unwatch these articles in one transaction; what happened to
    each. Pausing leaves an unwatched article alone (there is nothing to pause);
    resuming one watches it again, as `add` does, and says so."""
    changes: list[WatchChange] = []
    with store.write():
        for row in rows:
            current = store.resolve(str(row.id)).watch
            if current == watch:
                changes.append("already")
            elif watch == "paused" and current == "unwatched":
                changes.append("not watched")
            elif watch == "watching" and current == "unwatched":
                store.set_watch(row.id, watch)
                changes.append("rewatched")
            else:
                store.set_watch(row.id, watch)
                changes.append("done")
    return changes


def purge(store: Store, rows: list[ArticleRow]) -> None:
    """Delete these articles and their whole history, all in one transaction."""
    with store.write():
        for row in rows:
            store.purge_article(row.id)
