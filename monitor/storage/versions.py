"""Versions, the changes between them, and the sightings that were not new versions.

A version's key is (article, first-seen time in ms). Every method here runs inside
the caller's transaction, so a version and its change land together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from monitor.article import Article
from monitor.errors import NotFound


@dataclass(frozen=True)
class VersionRow:
    article_id: int
    ts: int
    title: str
    pudate: str
    fingerprint: str | None
    article_blob: str | None
    snapshot_blob: str | None
    source: str
    kinds: list[str]
    chars_added: int
    chars_removed: int
    from_ts: int | None
    raw_blob: str | None = None


@dataclass(frozen=True)
class DuplicateSighting:
    """An imported file that repeated a version: kept so export gives it back."""

    ts: int
    snapshot_blob: str


class VersionQueries:
    conn: sqlite3.Connection

    def versions(self, article_id: int) -> list[VersionRow]:
        rows = self.conn.execute(
            _VERSION_SELECT + " WHERE v.article_id = ? ORDER BY v.ts", (article_id,)
        ).fetchall()
        return [_version_row(r) for r in rows]

    def version(self, article_id: int, ts: int) -> VersionRow:
        row = self.conn.execute(
            _VERSION_SELECT + " WHERE v.article_id = ? AND v.ts = ?", (article_id, ts)
        ).fetchone()
        if row is None:
            raise NotFound(f"article {article_id} has no version at {ts}")
        return _version_row(row)

    def latest_version(self, article_id: int, before: int | None = None) -> VersionRow | None:
        sql = _VERSION_SELECT + " WHERE v.article_id = ?"
        args: list[Any] = [article_id]
        if before is not None:
            sql += " AND v.ts < ?"
            args.append(before)
        row = self.conn.execute(sql + " ORDER BY v.ts DESC LIMIT 1", args).fetchone()
        return _version_row(row) if row is not None else None

    def count_versions(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM versions").fetchone()[0])

    def seen(self, article_id: int, ts: int) -> bool:
        """Whether a sighting at `ts` is already recorded (a version or not)."""
        row = self.conn.execute(
            "SELECT 1 FROM versions WHERE article_id = ? AND ts = ? UNION ALL "
            "SELECT 1 FROM observations WHERE article_id = ? AND ts = ? LIMIT 1",
            (article_id, ts, article_id, ts),
        ).fetchone()
        return row is not None

    def earlier_fingerprint_ts(self, article_id: int, fingerprint: str, before: int) -> int | None:
        row = self.conn.execute(
            "SELECT ts FROM versions WHERE article_id = ? AND fingerprint = ? AND ts < ? "
            "ORDER BY ts DESC LIMIT 1",
            (article_id, fingerprint, before),
        ).fetchone()
        return int(row["ts"]) if row is not None else None

    def insert_version_row(
        self,
        article_id: int,
        ts: int,
        article: Article | None,
        *,
        article_blob: str | None,
        snapshot_blob: str | None,
        raw_blob: str | None,
        source: str,
    ) -> None:
        self.conn.execute(
            "INSERT INTO versions (article_id, ts, title, pudate, fingerprint, article_blob, "
            "snapshot_blob, raw_blob, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article_id,
                ts,
                article.title if article else "",
                article.pudate if article else "",
                article.fingerprint() if article else None,
                article_blob,
                snapshot_blob,
                raw_blob,
                source,
            ),
        )

    def replace_version_text(
        self, article_id: int, ts: int, article: Article, article_blob: str
    ) -> None:
        """A version re-extracted from its kept page: new text, same key."""
        self.conn.execute(
            "UPDATE versions SET title = ?, pudate = ?, fingerprint = ?, article_blob = ? "
            "WHERE article_id = ? AND ts = ?",
            (article.title, article.pudate, article.fingerprint(), article_blob, article_id, ts),
        )

    def has_later_sighting(self, article_id: int, ts: int) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM versions WHERE article_id = ? AND ts > ? UNION ALL "
            "SELECT 1 FROM observations WHERE article_id = ? AND ts > ? AND outcome = 'duplicate' "
            "LIMIT 1",
            (article_id, ts, article_id, ts),
        ).fetchone()
        return row is not None

    def duplicate_sightings(self, article_id: int) -> list[DuplicateSighting]:
        rows = self.conn.execute(
            "SELECT ts, snapshot_blob FROM observations WHERE article_id = ? "
            "AND outcome = 'duplicate' AND snapshot_blob IS NOT NULL ORDER BY ts",
            (article_id,),
        ).fetchall()
        return [DuplicateSighting(r["ts"], r["snapshot_blob"]) for r in rows]

    def clear_succession(self, article_id: int) -> None:
        for sql in (
            "DELETE FROM changes WHERE article_id = ?",
            "DELETE FROM versions WHERE article_id = ?",
            "DELETE FROM observations WHERE article_id = ? AND outcome = 'duplicate' "
            "AND snapshot_blob IS NOT NULL",
        ):
            self.conn.execute(sql, (article_id,))

    def set_change(
        self,
        article_id: int,
        to_ts: int,
        from_ts: int | None,
        kinds: list[str],
        added: int,
        removed: int,
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO changes (article_id, to_ts, from_ts, kinds, chars_added, "
            "chars_removed) VALUES (?, ?, ?, ?, ?, ?)",
            (article_id, to_ts, from_ts, json.dumps(kinds), added, removed),
        )

    def add_observation(
        self,
        article_id: int,
        ts: int,
        outcome: str,
        version_ts: int | None,
        snapshot_blob: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO observations (article_id, ts, outcome, version_ts, "
            "snapshot_blob) VALUES (?, ?, ?, ?, ?)",
            (article_id, ts, outcome, version_ts, snapshot_blob),
        )

    def refresh_article_summary(self, article_id: int) -> None:
        self.conn.execute(
            """
            UPDATE articles SET
              versions_count = (SELECT count(*) FROM versions WHERE article_id = :id),
              latest_ts = (SELECT max(ts) FROM versions WHERE article_id = :id),
              title = coalesce((SELECT title FROM versions WHERE article_id = :id
                                AND fingerprint IS NOT NULL ORDER BY ts DESC LIMIT 1), title),
              last_change_ts = (SELECT max(to_ts) FROM changes WHERE article_id = :id
                                AND kinds NOT IN ('["metadata"]', '["minor"]'))
            WHERE id = :id
            """,
            {"id": article_id},
        )


_VERSION_SELECT = (
    "SELECT v.*, c.kinds, c.chars_added, c.chars_removed, c.from_ts FROM versions v "
    "LEFT JOIN changes c ON c.article_id = v.article_id AND c.to_ts = v.ts"
)


def _version_row(row: sqlite3.Row) -> VersionRow:
    return VersionRow(
        article_id=row["article_id"],
        ts=row["ts"],
        title=row["title"],
        pudate=row["pudate"],
        fingerprint=row["fingerprint"],
        article_blob=row["article_blob"],
        snapshot_blob=row["snapshot_blob"],
        source=row["source"],
        kinds=json.loads(row["kinds"]) if row["kinds"] else [],
        chars_added=row["chars_added"] or 0,
        chars_removed=row["chars_removed"] or 0,
        from_ts=row["from_ts"],
        raw_blob=row["raw_blob"],
    )
