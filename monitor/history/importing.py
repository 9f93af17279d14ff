"""Importing snapshot files: one bad file is reported, the rest of the batch goes on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from monitor.clock import now_ms
from monitor.errors import MonitorError, SnapshotError, UrlError
from monitor.extraction.feed import article_from_snapshot
from monitor.history.recording import record
from monitor.snapshot import Snapshot, read_file
from monitor.storage.database import Store
from monitor.urls import normalize

SNAPSHOT_SUFFIXES = (".md", ".txt")
BATCH_SIZE = 200


@dataclass
class ImportSummary:
    files: int = 0
    new_versions: int = 0
    duplicates: int = 0
    already_known: int = 0
    articles: set[int] = field(default_factory=set)
    new_articles: int = 0
    errors: list[str] = field(default_factory=list)


def find_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly, and snapshot files found recursively in directories."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and child.suffix in SNAPSHOT_SUFFIXES
                    and not child.name.lower().startswith("readme")
                ):
                    yield child
        else:
            yield path


def import_paths(
    store: Store, paths: Iterable[Path], progress: Callable[[Path], None] | None = None
) -> ImportSummary:
    summary = ImportSummary()
    versions_before = store.count_versions()
    batch: list[Path] = []
    for path in find_files(paths):
        batch.append(path)
        if len(batch) >= BATCH_SIZE:
            _import_batch(store, batch, summary, progress)
            batch = []
    if batch:
        _import_batch(store, batch, summary, progress)
    # Counted at the end: an out-of-order file can turn an earlier duplicate into a version.
    summary.new_versions = store.count_versions() - versions_before
    recorded = summary.files - len(summary.errors) - summary.already_known
    summary.duplicates = recorded - summary.new_versions
    return summary


def _import_batch(
    store: Store, batch: list[Path], summary: ImportSummary, progress: Callable[[Path], None] | None
) -> None:
    parsed = []
    for path in batch:
        summary.files += 1
        try:
            snap, text = read_file(path)
            url = normalize(snap.url)
        except SnapshotError as exc:
            summary.errors.append(str(exc))
        except UrlError as exc:
            summary.errors.append(f"{path}:2: {exc}")
        else:
            parsed.append((path, snap, text, url))
        if progress is not None:
            progress(path)
    now = now_ms()
    with store.write():
        for path, snap, text, url in parsed:
            try:
                _import_one(store, snap, text, url, now, summary)
            except MonitorError as exc:
                summary.errors.append(f"{path}: {exc}")


def _import_one(
    store: Store, snap: Snapshot, text: str, url: str, now: int, summary: ImportSummary
) -> None:
    article_id, created = store.ensure_article(url, now, snap.title)
    summary.articles.add(article_id)
    summary.new_articles += int(created)
    if store.seen(article_id, snap.ts):
        summary.already_known += 1
        return
    article = article_from_snapshot(snap, url)
    record(store, article_id, snap.ts, article, source="import", snapshot_text=text)
