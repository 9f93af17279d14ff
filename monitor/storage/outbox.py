"""The notification outbox: alerts, one delivery per alert and target, their states.

Sending is claimed like checking: a delivery is leased with a fencing token before it
is sent, so two processes never send the same delivery at once, and its outcome is
recorded only while the token is current.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class NewAlert:
    article_id: int
    created_at: int
    event: str  # change | removed | restored | failing | recovered
    version_ts: int | None
    kinds: list[str]
    subject: str
    markdown: str
    html: str


@dataclass(frozen=True)
class DueDelivery:
    """A delivery waiting to be sent, with the alert's message."""

    alert_id: int
    target: str  # hash of the target URL
    attempts: int
    next_attempt_at: int
    created_at: int
    subject: str
    markdown: str
    html: str
    claim: int = 0  # fencing token (after claim_delivery: the one this sender holds)
    claimed_until: int | None = None
    batch_key: str | None = None  # a digest's key, fixed at its first attempt


@dataclass(frozen=True)
class OutboxEntry:
    """One delivery as `monitor outbox` shows it."""

    alert_id: int
    article_id: int
    event: str
    subject: str
    target: str
    state: str
    attempts: int
    last_error: str | None
    created_at: int
    next_attempt_at: int


class OutboxQueries:
    conn: sqlite3.Connection

    def add_alert(self, alert: NewAlert, target_keys: list[str]) -> int:
        """An alert and its deliveries; call inside the transaction of its cause."""
        cur = self.conn.execute(
            "INSERT INTO alerts (article_id, created_at, event, version_ts, kinds, subject, "
            "markdown, html) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                alert.article_id,
                alert.created_at,
                alert.event,
                alert.version_ts,
                json.dumps(alert.kinds),
                alert.subject,
                alert.markdown,
                alert.html,
            ),
        )
        alert_id = int(cur.lastrowid or 0)
        self.conn.executemany(
            "INSERT OR IGNORE INTO deliveries (alert_id, target, next_attempt_at) VALUES (?, ?, ?)",
            [(alert_id, key, alert.created_at) for key in target_keys],
        )
        return alert_id

    def content_alert_since(self, article_id: int, since: int) -> bool:
        """Whether a change or restore of the article was alerted since `since`."""
        row = self.conn.execute(
            "SELECT 1 FROM alerts WHERE article_id = ? AND event IN ('change', 'restored') "
            "AND created_at >= ? LIMIT 1",
            (article_id, since),
        ).fetchone()
        return row is not None

    def due_deliveries(self, limit: int) -> list[DueDelivery]:
        """Pending deliveries in alert order (due, backing off, or claimed)."""
        rows = self.conn.execute(
            "SELECT d.alert_id, d.target, d.attempts, d.next_attempt_at, a.created_at, "
            "a.subject, a.markdown, a.html, d.claim, d.claimed_until, d.batch_key "
            "FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
            "WHERE d.state = 'pending' ORDER BY d.alert_id LIMIT ?",
            (limit,),
        ).fetchall()
        return [DueDelivery(**dict(r)) for r in rows]

    def claim_delivery(
        self, row: DueDelivery, now: int, lease_ms: int, owner: str
    ) -> DueDelivery | None:
        """Lease one delivery for sending; None when another sender holds it or it is
        no longer pending."""
        got = self.conn.execute(
            "UPDATE deliveries SET claim = claim + 1, claimed_until = ?, claimed_by = ? "
            "WHERE alert_id = ? AND target = ? AND state = 'pending' "
            "AND (claimed_until IS NULL OR claimed_until <= ?) RETURNING claim",
            (now + lease_ms, owner, row.alert_id, row.target, now),
        ).fetchone()
        if got is None:
            return None
        return replace(row, claim=got[0], claimed_until=now + lease_ms)

    def count_attempt(self, row: DueDelivery) -> bool:
        """Count an attempt before sending it (a full disk then sends nothing, rather
        than something it cannot mark). False when the lease was lost."""
        cur = self.conn.execute(
            "UPDATE deliveries SET attempts = attempts + 1 "
            "WHERE alert_id = ? AND target = ? AND claim = ?",
            (row.alert_id, row.target, row.claim),
        )
        return cur.rowcount == 1

    def release_delivery(self, row: DueDelivery) -> None:
        """Give back a lease without sending (the delivery stays pending as it was)."""
        self.conn.execute(
            "UPDATE deliveries SET claimed_until = NULL "
            "WHERE alert_id = ? AND target = ? AND claim = ?",
            (row.alert_id, row.target, row.claim),
        )

    def fix_batch_key(self, row: DueDelivery, key: str) -> None:
        self.conn.execute(
            "UPDATE deliveries SET batch_key = ? WHERE alert_id = ? AND target = ?",
            (key, row.alert_id, row.target),
        )

    def mark_sent(self, row: DueDelivery, now: int) -> bool:
        """False when the lease was lost (another sender took the delivery over)."""
        cur = self.conn.execute(
            "UPDATE deliveries SET state = 'sent', sent_at = ?, last_error = NULL, "
            "claimed_until = NULL WHERE alert_id = ? AND target = ? AND claim = ?",
            (now, row.alert_id, row.target, row.claim),
        )
        return cur.rowcount == 1

    def mark_failed_attempt(
        self, row: DueDelivery, error: str, retry_at: int, give_up: bool
    ) -> bool:
        cur = self.conn.execute(
            "UPDATE deliveries SET state = ?, last_error = ?, next_attempt_at = ?, "
            "claimed_until = NULL WHERE alert_id = ? AND target = ? AND claim = ?",
            (
                "failed" if give_up else "pending",
                error,
                retry_at,
                row.alert_id,
                row.target,
                row.claim,
            ),
        )
        return cur.rowcount == 1

    def outbox_entries(self, include_sent: bool) -> list[OutboxEntry]:
        states = ("pending", "failed", "sent") if include_sent else ("pending", "failed")
        rows = self.conn.execute(
            "SELECT d.alert_id, a.article_id, a.event, a.subject, d.target, d.state, d.attempts, "
            "d.last_error, a.created_at, d.next_attempt_at FROM deliveries d "
            "JOIN alerts a ON a.id = d.alert_id "
            f"WHERE d.state IN ({','.join('?' * len(states))}) ORDER BY d.alert_id",
            states,
        ).fetchall()
        return [OutboxEntry(**dict(r)) for r in rows]

    def retry_failed(self, now: int) -> int:
        cur = self.conn.execute(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ? WHERE state = 'failed'",
            (now,),
        )
        return cur.rowcount

    def delivery_counts(self) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'failed'), 0) "
            "FROM deliveries"
        ).fetchone()
        return {"outbox_pending": int(row[0]), "outbox_failed": int(row[1])}
