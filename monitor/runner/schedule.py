"""The re-check policy: pure functions of article age, last change and failures.

Young articles are edited most, so they are checked most often: by default every
15 minutes in the first 3 hours after the last change (or first sight), hourly in the
first day, every 4 hours in the first week, daily in the first month, then weekly,
and not at all after 90 days. A change puts the article back on the fast schedule;
failures back off exponentially.
"""

from __future__ import annotations

import random

from monitor.clock import DAY_MS, MINUTE_MS
from monitor.config import SchedulePolicy

MINUTE = MINUTE_MS
DAY = DAY_MS


def next_interval(policy: SchedulePolicy, now: int, last_change: int, failures: int) -> int | None:
    """Milliseconds until the next check, or None when the article is too old to watch."""
    age = max(0, now - last_change)
    if age >= policy.stop_after_days * DAY:
        return None
    minutes = next(
        (every for under, every in policy.steps if age < under * MINUTE),
        policy.old_interval_minutes,
    )
    interval = int(minutes * MINUTE)
    if failures:
        ceiling = max(int(policy.max_backoff_minutes * MINUTE), interval)
        interval = min(interval * 2 ** min(failures, 30), ceiling)
    return interval


def jittered(policy: SchedulePolicy, interval: int, rng: random.Random | None = None) -> int:
    """Spread checks of articles on the same schedule so they do not all fall due at once."""
    spread = interval * policy.jitter_fraction
    offset = (rng or random).uniform(-spread, spread)
    return max(1, int(interval + offset))
