"""The check queue: which articles are due, leases on them, and the one UPDATE that
records a check's effect on an article.

A claim is a lease with a fencing token. Claiming bumps the article's `claim` counter
and sets `claimed_until`; the check's result is written only if the counter still
holds the value it was claimed with (`... WHERE id = ? AND claim = ?`). A checker that
stalled past its lease (a slow server, a stopped process) finds the token moved on
when another checker re-claimed the article, and its result is dropped. The same
scheme holds for N workers on one database.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass

from monitor.identity import owner_is_dead
from monitor.outcome import ArticleTarget, ArticleUpdate

_TARGET_COLUMNS = ", ".join(f.name for f in dataclasses.fields(ArticleTarget))
_COUNTER_SQL = {"reset": "0", "increment": "{column} + 1"}
_CLAIMABLE = "(claimed_until IS NULL OR claimed_until <= :now)"
# Articles a check may take: still scheduled, and neither paused nor unwatched.
_WATCHED = "state != 'stopped' AND watch = 'watching'"
_SCAN_FACTOR = 4  # candidates read per slot to fill, so one busy host cannot hide others


class StaleClaim(Exception):
    """The article was claimed by another checker since this one claimed it."""


@dataclass(frozen=True)
class ClaimRequest:
    now: int
    lease_ms: int
    owner: str  # "pid@host", shown to whoever finds the article claimed


@dataclass(frozen=True)
class ClaimedElsewhere:
    article_id: int
    url: str
    host: str
    owner: str
    until: int


class CheckQueries:
    conn: sqlite3.Connection

    def claim_due(
        self, request: ClaimRequest, slots: int, per_host: int, busy: dict[str, int]
    ) -> list[ArticleTarget]:
        """Claim up to `slots` due articles, most overdue first, at most `per_host` per
        host counting the `busy` checks each host already has. Call in a write
        transaction (BEGIN IMMEDIATE: no other writer can claim the same rows)."""
        full = [host for host, n in busy.items() if n >= per_host]
        rows = self.conn.execute(
            f"SELECT id, host FROM articles WHERE {_WATCHED} AND next_check_at <= :now "
            f"AND {_CLAIMABLE} AND host NOT IN (SELECT value FROM json_each(:full)) "
            "ORDER BY next_check_at, id LIMIT :scan",
            {"now": request.now, "full": _json_list(full), "scan": slots * _SCAN_FACTOR},
        ).fetchall()
        taken: dict[str, int] = dict(busy)
        chosen: list[int] = []
        for row in rows:
            if len(chosen) >= slots:
                break
            if taken.get(row["host"], 0) < per_host:
                taken[row["host"]] = taken.get(row["host"], 0) + 1
                chosen.append(row["id"])
        return self._claim(request, chosen)

    def pass_candidates(
        self, ids: list[int] | None, due_only: bool, now: int
    ) -> list[tuple[int, str]]:
        """(id, host) of the articles a `monitor check` pass covers: these ids, the due
        ones, or all that are watched; most overdue first. Only ids: a pass over
        100,000 articles holds a few MB here, the rest is read as each is claimed."""
        where, args = _pass_filter(ids, due_only, now)
        rows = self.conn.execute(
            f"SELECT id, host FROM articles WHERE {where} ORDER BY next_check_at, id", args
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    def count_pass(self, ids: list[int] | None, due_only: bool, now: int) -> int:
        where, args = _pass_filter(ids, due_only, now)
        return int(
            self.conn.execute(f"SELECT count(*) FROM articles WHERE {where}", args).fetchone()[0]
        )

    def claim_ids(
        self, request: ClaimRequest, ids: list[int]
    ) -> tuple[list[ArticleTarget], list[ClaimedElsewhere]]:
        """Claim these articles; those another checker holds are returned apart, and
        those paused, unwatched or deleted since they were listed are left out."""
        claimed = self._claim(request, ids)
        got = {t.id for t in claimed}
        others = self.conn.execute(
            "SELECT id, url, host, coalesce(claimed_by, '?'), claimed_until FROM articles "
            f"WHERE id IN (SELECT value FROM json_each(:ids)) AND {_WATCHED} ORDER BY id",
            {"ids": _json_list([i for i in ids if i not in got])},
        ).fetchall()
        return claimed, [ClaimedElsewhere(r[0], r[1], r[2], r[3], r[4] or 0) for r in others]

    def _claim(self, request: ClaimRequest, ids: list[int]) -> list[ArticleTarget]:
        if not ids:
            return []
        rows = self.conn.execute(
            "UPDATE articles SET claim = claim + 1, claimed_until = :until, claimed_by = :owner "
            f"WHERE id IN (SELECT value FROM json_each(:ids)) AND {_CLAIMABLE} AND {_WATCHED} "
            f"RETURNING {_TARGET_COLUMNS}",
            {
                "until": request.now + request.lease_ms,
                "owner": request.owner,
                "ids": _json_list(ids),
                "now": request.now,
            },
        ).fetchall()
        order = {article_id: n for n, article_id in enumerate(ids)}
        return sorted((ArticleTarget(**dict(r)) for r in rows), key=lambda t: order[t.id])

    def holds_claim(self, article_id: int, claim: int) -> bool:
        """Whether `claim` is still the article's current token (call in the write
        transaction that records the result, so it cannot change underneath)."""
        row = self.conn.execute("SELECT claim FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row is not None and int(row[0]) == claim

    def claim_owners(self, now: int) -> list[str]:
        """Who holds live leases on articles or deliveries ("pid@host" each)."""
        rows = self.conn.execute(
            "SELECT claimed_by FROM articles WHERE claimed_until > :now UNION "
            "SELECT claimed_by FROM deliveries WHERE claimed_until > :now",
            {"now": now},
        ).fetchall()
        return sorted(str(r[0]) for r in rows if r[0] is not None)

    def release_dead_claims(self, now: int) -> list[str]:
        """End the leases of processes on this host that are gone (a daemon or a CLI
        pass killed -9): their work need not wait for the leases to run out."""
        dead = [owner for owner in self.claim_owners(now) if owner_is_dead(owner)]
        for owner in dead:
            self.release_claims(owner)
        return dead

    def release_claims(self, owner: str) -> None:
        """End a checker's leases on articles and deliveries: a pass that is over, or a
        process that died. Its articles stay due; nothing it held is changed."""
        for table in ("articles", "deliveries"):
            self.conn.execute(
                f"UPDATE {table} SET claimed_until = NULL WHERE claimed_by = ? "
                "AND claimed_until IS NOT NULL",
                (owner,),
            )

    def count_overdue(self, now: int) -> int:
        return int(
            self.conn.execute(
                f"SELECT count(*) FROM articles WHERE {_WATCHED} AND next_check_at <= ?",
                (now,),
            ).fetchone()[0]
        )

    def spread_overdue(self, now: int, window_ms: int) -> None:
        """Give every overdue article a random due time within the window."""
        self.conn.execute(
            "UPDATE articles SET next_check_at = ? + abs(random() % ?) "
            f"WHERE {_WATCHED} AND next_check_at <= ?",
            (now, window_ms, now),
        )

    def next_due_at(self) -> int | None:
        row = self.conn.execute(
            f"SELECT min(next_check_at) FROM articles WHERE {_WATCHED}"
        ).fetchone()
        return int(row[0]) if row[0] is not None else None

    def change_basis(self, article_id: int) -> tuple[int, int]:
        """(last change or first sight, added at): what the schedule counts age from."""
        row = self.conn.execute(
            "SELECT coalesce(last_change_ts, added_at), added_at FROM articles WHERE id = ?",
            (article_id,),
        ).fetchone()
        return int(row[0]), int(row[1])

    def save_check(
        self, target: ArticleTarget, update: ArticleUpdate, next_check_at: int | None
    ) -> None:
        """The article's new state and next check (None: stop watching) in one UPDATE,
        fenced by the claim token; raises StaleClaim when the token moved on."""
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
        cur = self.conn.execute(
            f"UPDATE articles SET {', '.join(sets)} WHERE id = ? AND claim = ?",
            (*args, target.id, target.claim),
        )
        if cur.rowcount != 1:
            raise StaleClaim(f"article {target.id} was claimed by another checker")


def _pass_filter(ids: list[int] | None, due_only: bool, now: int) -> tuple[str, dict[str, object]]:
    """Which watched articles a pass covers: these ids, the due ones, or all."""
    where = _WATCHED
    args: dict[str, object] = {"now": now}
    if ids is not None:
        where += " AND id IN (SELECT value FROM json_each(:ids))"
        args["ids"] = _json_list(ids)
    elif due_only:
        where += " AND next_check_at <= :now"
    return where, args


def _json_list(values: list[int] | list[str]) -> str:
    return json.dumps(values)
