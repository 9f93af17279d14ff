"""The read side of history: what list, history, diff, show and export print."""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from monitor.article import Article
from monitor.diffing.diff import ArticleDiff, diff_articles
from monitor.diffing.render import DiffHeader
from monitor.errors import NotFound
from monitor.history.models import load_article
from monitor.snapshot import Snapshot
from monitor.storage.articles import ArticleRow
from monitor.storage.database import Store
from monitor.storage.versions import VersionRow


@dataclass(frozen=True)
class HistoryEntry:
    ts: int
    title: str
    kinds: list[str]
    chars_added: int
    chars_removed: int
    pudate: str
    source: str

    def as_dict(self) -> dict[str, object]:
        return {
            "ts": self.ts,
            "title": self.title,
            "kinds": self.kinds,
            "chars_added": self.chars_added,
            "chars_removed": self.chars_removed,
            "pudate": self.pudate,
            "source": self.source,
        }


def history(store: Store, ref: str) -> tuple[ArticleRow, list[HistoryEntry]]:
    article = store.resolve(ref)
    entries = [
        HistoryEntry(v.ts, v.title, v.kinds, v.chars_added, v.chars_removed, v.pudate, v.source)
        for v in store.versions(article.id)
    ]
    return article, entries


def diff(
    store: Store, ref: str, from_ts: int | None = None, to_ts: int | None = None
) -> tuple[DiffHeader, ArticleDiff]:
    article = store.resolve(ref)
    new = (
        store.version(article.id, to_ts) if to_ts is not None else store.latest_version(article.id)
    )
    if new is None:
        raise NotFound(f"article {article.id} has no versions")
    new = _with_text(store, new, "to")
    if from_ts is not None:
        old = store.version(article.id, from_ts)
    else:
        previous = store.latest_version(article.id, before=new.ts)
        if previous is None:
            raise NotFound(f"article {article.id} has only one version: nothing to diff")
        old = previous
    old = _with_text(store, old, "from")
    header = DiffHeader(
        title=new.title,
        url=article.url,
        from_ts=old.ts,
        to_ts=new.ts,
        from_pudate=old.pudate,
        to_pudate=new.pudate,
    )
    return header, diff_articles(load_article(store, old), load_article(store, new))


def _with_text(store: Store, version: VersionRow, side: str) -> VersionRow:
    """A removal has no text: diff against the last version that had some."""
    current: VersionRow | None = version
    while current is not None and current.fingerprint is None:
        current = store.latest_version(version.article_id, before=current.ts)
    if current is None:
        raise NotFound(f"no text for the {side} side at {version.ts}")
    return current


def snapshot_of(store: Store, article: ArticleRow, version: VersionRow) -> str:
    """The version as a snapshot file: byte-exact for imported files."""
    if version.snapshot_blob is not None:
        return store.get_blob(version.snapshot_blob).decode("utf-8")
    if version.fingerprint is None:
        return Snapshot(
            version.ts, version.title or article.title, article.url, "<p>(removed)</p>"
        ).render()
    model: Article = load_article(store, version)
    return Snapshot(version.ts, _one_line(model.title), article.url, model.to_feed_html()).render()


def _one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text)


def show(store: Store, ref: str, at: int | None = None) -> str:
    article = store.resolve(ref)
    version = store.version(article.id, at) if at is not None else store.latest_version(article.id)
    if version is None:
        raise NotFound(f"article {article.id} has no versions")
    return snapshot_of(store, article, version)


def export(store: Store, refs: list[str], directory: Path, all_articles: bool = False) -> int:
    """Write every version of the articles as snapshot files; return how many."""
    directory.mkdir(parents=True, exist_ok=True)
    targets = list(store.articles()) if all_articles else [store.resolve(r) for r in refs]
    written = 0
    for article in targets:
        for version in store.versions(article.id):
            name = f"{article.id:06d}_{version.ts}.md"
            _write_new(directory / name, snapshot_of(store, article, version).encode("utf-8"))
            written += 1
    return written


def _write_new(path: Path, data: bytes) -> None:
    """Write a file whole or not at all, never through a link planted in its place: a
    fresh temporary file (O_EXCL | O_NOFOLLOW), then a rename over the name (which
    replaces a symlink itself, not what it points to)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
