"""Watched articles: registering, finding, listing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from monitor.errors import NotFound, UrlError
from monitor.urls import host_of, normalize, other_scheme

# What a user asked of an article (column `watch`); `state` is what its page did.
Watch = Literal["watching", "paused", "unwatched"]
# Rows that refer to an article's content blobs (purging deletes what only it used).
_BLOB_REFS = (
    "SELECT h FROM (SELECT article_blob AS h FROM versions WHERE {where} UNION "
    "SELECT snapshot_blob FROM versions WHERE {where} UNION "
    "SELECT raw_blob FROM versions WHERE {where} UNION "
    "SELECT snapshot_blob FROM observations WHERE {where}) WHERE h IS NOT NULL"
)


@dataclass(frozen=True)
class ArticleRow:
    id: int
    url: str
    title: str
    state: str
    versions_count: int
    latest_ts: int | None
    last_change_ts: int | None
    watch: str = "watching"
    next_check_at: int = 0


@dataclass(frozen=True)
class ArticleListing:
    """One line of `monitor list`: the article and how its checks go."""

    id: int
    url: str
    title: str
    state: str
    versions: int
    last_change_ts: int | None
    failures: int
    last_error: str | None
    last_check_at: int | None
    next_check_at: int | None


class ArticleQueries:
    conn: sqlite3.Connection

    def ensure_article(self, url: str, now_ms: int, title: str = "") -> tuple[int, bool]:
        """Return (article id, created?) for a canonical URL; the same address under
        the other of http/https is the same article."""
        known = self.known_url(url)
        row = None if known is None else self._row_by_url(known)
        if row is not None:
            return int(row["id"]), False
        # A new id above every id ever given (see m010): never a purged one's.
        (article_id,) = self.conn.execute(
            "UPDATE article_ids SET high = max(high, (SELECT coalesce(max(id), 0) FROM articles))"
            " + 1 RETURNING high"
        ).fetchone()
        self.conn.execute(
            "INSERT INTO articles (id, url, host, title, added_at) VALUES (?, ?, ?, ?, ?)",
            (article_id, url, host_of(url), title, now_ms),
        )
        return int(article_id), True

    def resolve(self, ref: str) -> ArticleRow:
        """An article by id or by any variant of its URL."""
        ref = ref.strip()
        if ref.isdigit():
            row = self.conn.execute("SELECT * FROM articles WHERE id = ?", (int(ref),)).fetchone()
        else:
            try:
                url = normalize(ref)
            except UrlError as exc:
                raise NotFound(f"no article {ref!r}: {exc}") from exc
            known = self.known_url(url)
            row = None if known is None else self._row_by_url(known)
        if row is None:
            raise NotFound(f"no article {ref!r}")
        return _article_row(row)

    def known_url(self, url: str) -> str | None:
        """The stored URL of the article at this canonical URL: itself, or the same
        address under the other of http/https (one article to a reader)."""
        for candidate in (url, other_scheme(url)):
            if self._row_by_url(candidate) is not None:
                return candidate
        return None

    def _row_by_url(self, url: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM articles WHERE url = ?", (url,)
        ).fetchone()
        return row

    def articles(self) -> Iterator[ArticleRow]:
        for row in self.conn.execute("SELECT * FROM articles ORDER BY id"):
            yield _article_row(row)

    def has_articles(self) -> bool:
        return self.conn.execute("SELECT 1 FROM articles LIMIT 1").fetchone() is not None

    def article_url(self, article_id: int) -> str:
        row = self.conn.execute("SELECT url FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise NotFound(f"no article {article_id}")
        return str(row[0])

    def article_title(self, article_id: int) -> str:
        row = self.conn.execute("SELECT title FROM articles WHERE id = ?", (article_id,)).fetchone()
        return str(row[0]) if row is not None and row[0] else ""

    def set_watch(self, article_id: int, watch: Watch) -> None:
        self.conn.execute("UPDATE articles SET watch = ? WHERE id = ?", (watch, article_id))

    def purge_article(self, article_id: int) -> None:
        """Delete an article and everything recorded of it: versions, changes,
        sightings, alerts and their deliveries, and the content only it used. Call in
        a write transaction. A check of it still in flight finds its claim gone and
        records nothing."""
        where = {"where": "article_id = :id"}
        mine = [r[0] for r in self.conn.execute(_BLOB_REFS.format(**where), {"id": article_id})]
        for sql in (
            "DELETE FROM deliveries WHERE alert_id IN "
            "(SELECT id FROM alerts WHERE article_id = :id)",
            "DELETE FROM alerts WHERE article_id = :id",
            "DELETE FROM changes WHERE article_id = :id",
            "DELETE FROM observations WHERE article_id = :id",
            "DELETE FROM versions WHERE article_id = :id",
            "DELETE FROM articles WHERE id = :id",
        ):
            self.conn.execute(sql, {"id": article_id})
        # Blobs are shared by hash: keep those another article's rows still use.
        self.conn.execute(
            "DELETE FROM blobs WHERE hash IN (SELECT value FROM json_each(:mine)) "
            f"AND hash NOT IN ({_BLOB_REFS.format(where='1')})",
            {"mine": json.dumps(mine)},
        )

    def mark_removed(self, article_id: int) -> None:
        self.conn.execute("UPDATE articles SET state = 'removed' WHERE id = ?", (article_id,))

    def article_listing(self) -> list[ArticleListing]:
        rows = self.conn.execute(
            # A paused or unwatched article shows as that, whatever its page last did.
            "SELECT id, url, title, CASE watch WHEN 'watching' THEN state ELSE watch END "
            "AS state, versions_count AS versions, last_change_ts, failures, "
            "last_error, last_check_at, "
            "CASE watch WHEN 'watching' THEN next_check_at END AS next_check_at "
            "FROM articles ORDER BY id"
        ).fetchall()
        return [ArticleListing(**dict(r)) for r in rows]

    def article_counts(self, now: int) -> dict[str, int]:
        """How many articles there are, are watched, are due now, and are failing (of
        those watched: a paused article's old failures are not a problem now)."""
        row = self.conn.execute(
            "SELECT count(*), coalesce(sum(watch = 'watching'), 0), "
            "coalesce(sum(state != 'stopped' AND watch = 'watching' AND next_check_at <= ?), 0), "
            "coalesce(sum(failures > 0 AND watch = 'watching'), 0) FROM articles",
            (now,),
        ).fetchone()
        return {
            "articles": int(row[0]),
            "watched": int(row[1]),
            "due": int(row[2]),
            "failing": int(row[3]),
        }


def _article_row(row: sqlite3.Row) -> ArticleRow:
    return ArticleRow(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        state=row["state"],
        versions_count=row["versions_count"],
        latest_ts=row["latest_ts"],
        last_change_ts=row["last_change_ts"],
        watch=row["watch"],
        next_check_at=row["next_check_at"],
    )
