"""The notification outbox: alerts, one delivery per alert and target, their states."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass


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
        """Pending deliveries in alert order (due or still backing off)."""
        rows = self.conn.execute(
            "SELECT d.alert_id, d.target, d.attempts, d.next_attempt_at, a.created_at, "
            "a.subject, a.markdown, a.html FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
            "WHERE d.state = 'pending' ORDER BY d.alert_id LIMIT ?",
            (limit,),
        ).fetchall()
        return [DueDelivery(**dict(r)) for r in rows]

    def count_attempt(self, alert_id: int, target: str) -> None:
        self.conn.execute(
            "UPDATE deliveries SET attempts = attempts + 1 WHERE alert_id = ? AND target = ?",
            (alert_id, target),
        )

    def mark_sent(self, alert_id: int, target: str, now: int) -> None:
        self.conn.execute(
            "UPDATE deliveries SET state = 'sent', sent_at = ?, last_error = NULL "
            "WHERE alert_id = ? AND target = ?",
            (now, alert_id, target),
        )

    def mark_failed_attempt(
        self, alert_id: int, target: str, error: str, retry_at: int, give_up: bool
    ) -> None:
        self.conn.execute(
            "UPDATE deliveries SET state = ?, last_error = ?, next_attempt_at = ? "
            "WHERE alert_id = ? AND target = ?",
            ("failed" if give_up else "pending", error, retry_at, alert_id, target),
        )

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
