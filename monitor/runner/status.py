"""Is the daemon alive, and what waits: the data behind `monitor status`.

Besides the figures, the report says in words what is wrong and what to do about it:
`problems` make the monitor unhealthy (exit status 1), `warnings` do not.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from monitor.clock import MINUTE_MS, local_time, now_ms, seconds_ms
from monitor.config import Config, no_targets_warning
from monitor.runner.lock import daemon_holds_lock
from monitor.storage.daemon_state import Heartbeat
from monitor.storage.database import Store

MIN_STALE_MS = 2 * MINUTE_MS  # a heartbeat older than this (or 3 ticks) means not running
_EMPTY_COUNTS = {
    "articles": 0,
    "watched": 0,
    "due": 0,
    "failing": 0,
    "outbox_pending": 0,
    "outbox_failed": 0,
}


def daemon_status(
    store: Store | None, state_dir: Path | None = None, config: Config | None = None
) -> dict[str, object]:
    """Is a daemon running (it holds the daemon lock) and alive (its heartbeat is
    fresh), what waits, and what to do: a health check's data. `store` is None when
    there is no database yet."""
    now = now_ms()
    beat = store.heartbeat() if store is not None else None
    fresh = beat is not None and _alive(beat, now)
    held = daemon_holds_lock(state_dir) if state_dir is not None else None
    running = fresh if held is None else held
    counts = (
        {**store.article_counts(now), **store.delivery_counts()}
        if store is not None
        else dict(_EMPTY_COUNTS)
    )
    problems = _daemon_problems(beat, running, fresh) + _outbox_problems(counts)
    warnings: list[str] = []
    failing = _failing_line(counts)
    if failing is not None:
        # A few failing pages are the web as usual; most of them failing is the
        # monitor's own network or configuration.
        (problems if 2 * counts["failing"] >= counts["watched"] else warnings).append(failing)
    target_warning = no_targets_warning(config) if config is not None else None
    if target_warning is not None:
        warnings.append(target_warning)
    return {
        "healthy": not problems,
        "running": running,
        "pid": beat.pid if beat else None,
        "started_at": beat.started_at if beat else None,
        "heartbeat_at": beat.heartbeat_at if beat else None,
        "last_tick_at": beat.last_tick_at if beat else None,
        **counts,
        "problems": problems,
        "warnings": warnings,
    }


def _daemon_problems(beat: Heartbeat | None, running: bool, fresh: bool) -> list[str]:
    if beat is None and not running:
        return ["daemon never run: start it with monitor run"]
    if not running:
        return ["daemon not running: start it with monitor run"]
    if not fresh:
        return ["daemon not responding (no fresh heartbeat): see its log, restart it"]
    return []


def _outbox_problems(counts: dict[str, int]) -> list[str]:
    failed = counts["outbox_failed"]
    if not failed:
        return []
    return [f"{failed} notifications given up: monitor outbox, then monitor outbox retry"]


def _failing_line(counts: dict[str, int]) -> str | None:
    if not counts["failing"]:
        return None
    return f"{counts['failing']} of {counts['watched']} articles failing: see monitor list"


def status_lines(report: dict[str, object]) -> list[str]:
    """The report for people: a verdict, its reasons, then the figures."""
    problems = _strings(report["problems"])
    warnings = _strings(report["warnings"])
    lines = ["healthy" if report["healthy"] else "unhealthy"]
    lines += [f"  problem: {p}" for p in problems]
    lines += [f"  warning: {w}" for w in warnings]
    lines += [
        f"{'daemon':<12} {_daemon_state(report)}",
        f"{'heartbeat':<12} {_when(report['heartbeat_at'])}",
        f"{'last tick':<12} {_when(report['last_tick_at'])}",
        f"{'articles':<12} {report['articles']} ({report['due']} due, {report['failing']} failing)",
        f"{'outbox':<12} {report['outbox_pending']} pending, {report['outbox_failed']} given up",
    ]
    return lines


def _daemon_state(report: dict[str, object]) -> str:
    started = report["started_at"]
    if not isinstance(started, int):
        return "not running (never run)"
    if report["running"]:
        return f"running, pid {report['pid']}, since {local_time(started)}"
    return f"not running (last started {local_time(started)})"


def _when(value: object) -> str:
    return local_time(value) if isinstance(value, int) else "never"


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


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
