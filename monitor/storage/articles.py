"""Watched articles: registering, finding, listing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from monitor.errors import NotFound, UrlError
from monitor.urls import host_of, normalize


@dataclass(frozen=True)
class ArticleRow:
    id: int
    url: str
    title: str
    state: str
    versions_count: int
    latest_ts: int | None
    last_change_ts: int | None


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
        """Return (article id, created?) for a canonical URL."""
        row = self.conn.execute("SELECT id FROM articles WHERE url = ?", (url,)).fetchone()
        if row is not None:
            return int(row["id"]), False
        cur = self.conn.execute(
            "INSERT INTO articles (url, host, title, added_at) VALUES (?, ?, ?, ?)",
            (url, host_of(url), title, now_ms),
        )
        return int(cur.lastrowid or 0), True

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
            row = self.conn.execute("SELECT * FROM articles WHERE url = ?", (url,)).fetchone()
        if row is None:
            raise NotFound(f"no article {ref!r}")
        return _article_row(row)

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

    def mark_removed(self, article_id: int) -> None:
        self.conn.execute("UPDATE articles SET state = 'removed' WHERE id = ?", (article_id,))

    def article_listing(self) -> list[ArticleListing]:
        rows = self.conn.execute(
            "SELECT id, url, title, state, versions_count AS versions, last_change_ts, failures, "
            "last_error, last_check_at, next_check_at FROM articles ORDER BY id"
        ).fetchall()
        return [ArticleListing(**dict(r)) for r in rows]

    def article_counts(self, now: int) -> dict[str, int]:
        """How many articles there are, are due now, and are failing."""
        row = self.conn.execute(
            "SELECT count(*), "
            "coalesce(sum(state != 'stopped' AND next_check_at <= ?), 0), "
            "coalesce(sum(failures > 0), 0) FROM articles",
            (now,),
        ).fetchone()
        return {"articles": int(row[0]), "due": int(row[1]), "failing": int(row[2])}


def _article_row(row: sqlite3.Row) -> ArticleRow:
    return ArticleRow(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        state=row["state"],
        versions_count=row["versions_count"],
        latest_ts=row["latest_ts"],
        last_change_ts=row["last_change_ts"],
    )
