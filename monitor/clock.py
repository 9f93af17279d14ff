"""Time in the monitor: epoch milliseconds everywhere, and the units to count them in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

Clock = Callable[[], int]  # returns epoch ms; tests pass a fake one


def now_ms() -> int:
    """Wall-clock time as epoch milliseconds (version keys and schedules use it)."""
    return int(time.time() * SECOND_MS)


def seconds_ms(seconds: float) -> int:
    return int(seconds * SECOND_MS)


def hours_ms(hours: float) -> int:
    return int(hours * HOUR_MS)


def local_time(ts_ms: int) -> str:
    """A version key as a readable local time."""
    return _local(ts_ms).strftime("%Y-%m-%d %H:%M:%S %Z")


def short_local_time(ts_ms: int) -> str:
    """To the minute, for tables and one-line summaries."""
    return _local(ts_ms).strftime("%Y-%m-%d %H:%M")


def _local(ts_ms: int) -> datetime:
    from datetime import datetime

    return datetime.fromtimestamp(ts_ms / SECOND_MS).astimezone()
