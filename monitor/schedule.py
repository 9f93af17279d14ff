"""The re-check policy: a pure function of article age, last change and failures."""

from __future__ import annotations

from dataclasses import dataclass

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True)
class Policy:
    # (age below which, interval): the younger the last change, the more often
    steps: tuple[tuple[int, int], ...] = (
        (3 * HOUR, 15 * MINUTE),
        (DAY, HOUR),
        (7 * DAY, 4 * HOUR),
        (30 * DAY, DAY),
    )
    old_interval: int = 7 * DAY
    stop_after: int = 90 * DAY
    max_backoff: int = DAY


def next_interval(policy: Policy, now: int, last_change: int, failures: int) -> int | None:
    """Milliseconds until the next check, or None when the article is too old to watch."""
    age = max(0, now - last_change)
    if age >= policy.stop_after:
        return None
    interval = next((step for limit, step in policy.steps if age < limit), policy.old_interval)
    if failures:
        interval = min(interval * 2**failures, max(policy.max_backoff, interval))
    return interval
