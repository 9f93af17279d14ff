from __future__ import annotations

import random

import pytest

from monitor.config import SchedulePolicy as Policy
from monitor.runner.schedule import DAY, MINUTE, jittered, next_interval

HOUR = 60 * MINUTE
T0 = 1_700_000_000_000  # a fake clock: every case is computed from this instant


@pytest.mark.parametrize(
    ("age", "failures", "expected"),
    [
        (0, 0, 15 * MINUTE),
        (2 * HOUR + 59 * MINUTE, 0, 15 * MINUTE),
        (3 * HOUR, 0, HOUR),
        (23 * HOUR, 0, HOUR),
        (DAY, 0, 4 * HOUR),
        (6 * DAY, 0, 4 * HOUR),
        (7 * DAY, 0, DAY),
        (29 * DAY, 0, DAY),
        (30 * DAY, 0, 7 * DAY),
        (89 * DAY, 0, 7 * DAY),
        (90 * DAY, 0, None),
        (400 * DAY, 0, None),
        (0, 1, 30 * MINUTE),
        (0, 3, 2 * HOUR),
        (0, 20, DAY),  # backoff capped
        (30 * DAY, 5, 7 * DAY),  # never below the normal interval
    ],
)
def test_interval_by_age_and_failures(age: int, failures: int, expected: int | None) -> None:
    assert next_interval(Policy(), T0 + age, T0, failures) == expected


def test_a_change_puts_the_article_back_on_the_fast_schedule() -> None:
    policy = Policy()
    first_seen = T0
    now = T0 + 20 * DAY
    assert next_interval(policy, now, first_seen, 0) == DAY
    assert next_interval(policy, now, now, 0) == 15 * MINUTE  # changed just now


def test_every_number_is_configurable() -> None:
    policy = Policy(
        steps=((10, 1),), old_interval_minutes=60, stop_after_days=1, max_backoff_minutes=5
    )
    assert next_interval(policy, T0 + 5 * MINUTE, T0, 0) == MINUTE
    assert next_interval(policy, T0 + 11 * MINUTE, T0, 0) == HOUR
    assert next_interval(policy, T0 + 5 * MINUTE, T0, 10) == 5 * MINUTE
    assert next_interval(policy, T0 + DAY, T0, 0) is None


def test_jitter_stays_within_its_fraction_and_spreads() -> None:
    policy = Policy(jitter_fraction=0.1)
    rng = random.Random(7)
    values = [jittered(policy, HOUR, rng) for _ in range(500)]
    assert all(0.9 * HOUR <= v <= 1.1 * HOUR for v in values)
    assert len(set(values)) > 400
    assert jittered(Policy(jitter_fraction=0), HOUR) == HOUR
