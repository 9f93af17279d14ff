"""What `monitor check` says about a pass: the tally of its outcomes, the closing
summary line, and the line for a pass with nothing to do."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from monitor.clock import short_local_time
from monitor.outcome import CheckOutcome, Outcome

# The order outcomes are summed up in: what needs a look first, the bulk last.
_ORDER: tuple[tuple[Outcome, str], ...] = (
    ("changed", "changed"),
    ("new", "new"),
    ("restored", "restored"),
    ("missing", "missing"),
    ("removed", "removed"),
    ("error", "error"),
    ("stale", "stale"),
    ("unchanged", "unchanged"),
)


@dataclass
class PassTally:
    """Outcomes of one pass as they are reported."""

    outcomes: Counter[str] = field(default_factory=Counter)
    skipped: int = 0  # being checked by another process

    @property
    def checked(self) -> int:
        return sum(self.outcomes.values())

    def add(self, result: CheckOutcome) -> None:
        self.outcomes[result.outcome] += 1

    def summary(self, next_due: int | None, now: int) -> str:
        """`checked 120: 3 changed, 1 removed, 2 errors, 114 unchanged; next due 14:05`"""
        counts = [_count(self.outcomes[kind], word) for kind, word in _ORDER if self.outcomes[kind]]
        if self.skipped:
            counts.append(f"{self.skipped} skipped (being checked elsewhere)")
        head = f"checked {self.checked}" + (f": {', '.join(counts)}" if counts else "")
        return f"{head}; {_next(next_due, now)}"


def nothing_due(next_due: int | None, now: int) -> str:
    if next_due is None:
        return "nothing due (no article is being watched)"
    return f"nothing due (next at {due_time(next_due, now)}; --all checks everything)"


def due_time(ts: int, now: int) -> str:
    """A due time as short as is clear: the clock time today, else date and time."""
    if ts <= now:
        return "now"
    day, clock = short_local_time(ts).split()
    return clock if day == short_local_time(now).split()[0] else f"{day} {clock}"


def _next(next_due: int | None, now: int) -> str:
    if next_due is None:
        return "no further checks scheduled"
    return f"next due {due_time(next_due, now)}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}s" if word == "error" and n != 1 else f"{n} {word}"
