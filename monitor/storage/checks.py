"""The check queue: which articles are due, claims on them, and the one UPDATE that
records a check's effect on an article."""

from __future__ import annotations

import dataclasses
import sqlite3

from monitor.outcome import ArticleTarget, ArticleUpdate

_TARGET_COLUMNS = ", ".join(f.name for f in dataclasses.fields(ArticleTarget))

_COUNTER_SQL = {"reset": "0", "increment": "{column} + 1"}


class CheckQueries:
    conn: sqlite3.Connection

    def check_targets(self, ids: list[int] | None, now: int, due_only: bool) -> list[ArticleTarget]:
        """The articles a `monitor check` pass covers: these ids, the due ones, or all."""
        sql = f"SELECT {_TARGET_COLUMNS} FROM articles WHERE state != 'stopped'"
        args: list[object] = []
        if ids is not None:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            args += ids
        elif due_only:
            sql += " AND next_check_at <= ?"
            args.append(now)
        rows = self.conn.execute(sql + " ORDER BY next_check_at, id", args).fetchall()
        return [ArticleTarget(**dict(r)) for r in rows]

    def claim_due(self, now: int, limit: int, lease_ms: int) -> list[ArticleTarget]:
        """Take up to `limit` due articles, most overdue first, in one statement.

        The claim holds them for a lease, so a hung run's articles are claimable again
        by themselves; recording a check (or a restart) clears it.
        """
        rows = self.conn.execute(
            "UPDATE articles SET claimed_until = :lease WHERE id IN (SELECT id FROM articles "
            "WHERE state != 'stopped' AND next_check_at <= :now "
            "AND (claimed_until IS NULL OR claimed_until <= :now) "
            f"ORDER BY next_check_at, id LIMIT :limit) RETURNING {_TARGET_COLUMNS}",
            {"lease": now + lease_ms, "now": now, "limit": limit},
        ).fetchall()
        return sorted((ArticleTarget(**dict(r)) for r in rows), key=lambda t: t.id)

    def release_claims(self) -> None:
        """Abandoned checks change nothing: their articles stay due, unclaimed."""
        self.conn.execute(
            "UPDATE articles SET claimed_until = NULL WHERE claimed_until IS NOT NULL"
        )

    def count_overdue(self, now: int) -> int:
        return int(
            self.conn.execute(
                "SELECT count(*) FROM articles WHERE state != 'stopped' AND next_check_at <= ?",
                (now,),
            ).fetchone()[0]
        )

    def spread_overdue(self, now: int, window_ms: int) -> None:
        """Give every overdue article a random due time within the window."""
        self.conn.execute(
            "UPDATE articles SET next_check_at = ? + abs(random() % ?) "
            "WHERE state != 'stopped' AND next_check_at <= ?",
            (now, window_ms, now),
        )

    def change_basis(self, article_id: int) -> tuple[int, int]:
        """(last change or first sight, added at): what the schedule counts age from."""
        row = self.conn.execute(
            "SELECT coalesce(last_change_ts, added_at), added_at FROM articles WHERE id = ?",
            (article_id,),
        ).fetchone()
        return int(row[0]), int(row[1])

    def save_check(self, article_id: int, update: ArticleUpdate, next_check_at: int | None) -> None:
        """The article's new state and next check (None: stop watching) in one UPDATE."""
        sets = ["last_check_at = ?", "last_error = ?", "claimed_until = NULL"]
        args: list[object] = [update.checked_at, update.error]
        for column, counter in (
            ("failures", update.failures),
            ("missing_count", update.missing),
            ("suspect_count", update.suspect),
        ):
            if counter != "keep":
                sets.append(f"{column} = {_COUNTER_SQL[counter].format(column=column)}")
        if update.page is not None:
            sets += ["etag = ?", "last_modified = ?", "page_digest = ?"]
            args += [update.page.etag, update.page.last_modified, update.page.page_digest]
        if next_check_at is None:
            sets.append("state = 'stopped'")
        else:
            sets.append("next_check_at = ?")
            args.append(next_check_at)
            if update.page is not None:
                sets.append("state = 'active'")
        self.conn.execute(
            f"UPDATE articles SET {', '.join(sets)} WHERE id = ?", (*args, article_id)
        )
