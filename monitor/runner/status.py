"""Is the daemon alive, and what waits: the data behind `monitor status`."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from monitor.clock import MINUTE_MS, now_ms, seconds_ms
from monitor.runner.lock import daemon_holds_lock
from monitor.storage.daemon_state import Heartbeat
from monitor.storage.database import Store

MIN_STALE_MS = 2 * MINUTE_MS  # a heartbeat older than this (or 3 ticks) means not running


def daemon_status(store: Store, state_dir: Path | None = None) -> dict[str, object]:
    """Is a daemon running (it holds the daemon lock) and alive (its heartbeat is
    fresh), and what waits: a health check's data."""
    now = now_ms()
    beat = store.heartbeat()
    fresh = beat is not None and _alive(beat, now)
    held = daemon_holds_lock(state_dir) if state_dir is not None else None
    running = fresh if held is None else held
    counts = {**store.article_counts(now), **store.delivery_counts()}
    return {
        "healthy": running and fresh and counts["outbox_failed"] == 0,
        "running": running,
        "pid": beat.pid if beat else None,
        "started_at": beat.started_at if beat else None,
        "heartbeat_at": beat.heartbeat_at if beat else None,
        "last_tick_at": beat.last_tick_at if beat else None,
        **counts,
    }


def _alive(beat: Heartbeat, now: int) -> bool:
    if beat.state != "running":
        return False
    fresh = now - beat.heartbeat_at < max(seconds_ms(3 * beat.tick_seconds), MIN_STALE_MS)
    if beat.host == socket.gethostname():
        try:
            os.kill(beat.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    return fresh
