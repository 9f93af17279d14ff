"""Database bytes per stored version and per unchanged check, against compressed text."""

from __future__ import annotations

import zlib
from pathlib import Path

from monitor.storage.database import Store


def database_bytes(store: Store) -> int:
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = store.conn.execute("PRAGMA page_size").fetchone()[0]
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    free = store.conn.execute("PRAGMA freelist_count").fetchone()[0]
    return int(page_size * (pages - free))


def compressed_texts(snapshot_dir: Path) -> tuple[int, int]:
    """zlib-9 size of the distinct snapshot texts, and of their canonical article text."""
    from monitor.extraction.feed import article_from_snapshot
    from monitor.snapshot import read_file
    from monitor.urls import normalize

    raw = canonical = 0
    seen: set[str] = set()
    for path in sorted(snapshot_dir.glob("*.md")):
        snap, text = read_file(path)
        if text in seen:
            continue
        seen.add(text)
        raw += len(zlib.compress(text.encode(), 9))
        article = article_from_snapshot(snap, normalize(snap.url))
        canonical += len(zlib.compress(article.canonical_text().encode(), 9))
    return raw, canonical
