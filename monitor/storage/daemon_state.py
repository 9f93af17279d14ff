"""The daemon's heartbeat row: who runs, since when, and when it last showed life."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Heartbeat:
    pid: int
    host: str
    started_at: int
    heartbeat_at: int
    last_tick_at: int | None
    tick_seconds: float
    state: str  # running | stopped


class DaemonStateQueries:
    conn: sqlite3.Connection

    def record_start(self, pid: int, host: str, now: int, tick_seconds: float) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO daemon (id, pid, host, started_at, heartbeat_at, "
            "last_tick_at, tick_seconds, state) VALUES (1, ?, ?, ?, ?, NULL, ?, 'running')",
            (pid, host, now, now, tick_seconds),
        )

    def record_beat(self, now: int, state: str, *, tick: bool) -> None:
        self.conn.execute(
            "UPDATE daemon SET heartbeat_at = ?, state = ?, "
            "last_tick_at = CASE WHEN ? THEN ? ELSE last_tick_at END WHERE id = 1",
            (now, state, tick, now),
        )

    def heartbeat(self) -> Heartbeat | None:
        row = self.conn.execute(
            "SELECT pid, host, started_at, heartbeat_at, last_tick_at, tick_seconds, state "
            "FROM daemon WHERE id = 1"
        ).fetchone()
        return Heartbeat(**dict(row)) if row is not None else None
