"""Is the daemon alive, and what waits: the data behind `monitor status`."""

from __future__ import annotations

import os
import socket

from monitor.clock import MINUTE_MS, now_ms, seconds_ms
from monitor.storage.daemon_state import Heartbeat
from monitor.storage.database import Store

MIN_STALE_MS = 2 * MINUTE_MS  # a heartbeat older than this (or 3 ticks) means not running


def daemon_status(store: Store) -> dict[str, object]:
    """Daemon liveness from its heartbeat, and what waits: a health check's data."""
    now = now_ms()
    beat = store.heartbeat()
    running = beat is not None and _alive(beat, now)
    counts = {**store.article_counts(now), **store.delivery_counts()}
    return {
        "healthy": running and counts["outbox_failed"] == 0,
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
