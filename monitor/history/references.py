"""Which version a user means: `v3`, `latest`, `latest~1`, a key, or a date and time.

Versions are numbered v1, v2, … oldest first, as `monitor history` shows them. A key
(epoch ms) must match a version exactly; a date or time means the version that was
current then, the last one first seen at or before that moment (local time when the
text gives no offset; a date alone is its first moment, 00:00).
"""

from __future__ import annotations

import re
from datetime import datetime

from monitor.clock import SECOND_MS, local_time
from monitor.errors import NotFound
from monitor.storage.versions import VersionRow

_NUMBERED = re.compile(r"v(\d+)", re.IGNORECASE)
_LATEST = re.compile(r"latest(?:~(\d+))?", re.IGNORECASE)
# Epoch ms; but eight digits are a date in ISO 8601's basic form (20240705), which
# no version key of this century looks like.
_KEY = re.compile(r"(?!\d{8}$)\d+")

FORMS = "vN, latest, latest~K, a version key (epoch ms) or an ISO 8601 date/time"


def pick(versions: list[VersionRow], ref: str) -> VersionRow:
    """The version `ref` names among `versions` (oldest first), or NotFound saying
    which versions exist."""
    text = ref.strip()
    if not versions:
        raise NotFound("this article has no versions yet")
    if match := _NUMBERED.fullmatch(text):
        return _nth(versions, int(match.group(1)), f"no version {text}")
    if match := _LATEST.fullmatch(text):
        back = int(match.group(1) or 0)
        return _nth(versions, len(versions) - back, f"no version {text}")
    if _KEY.fullmatch(text):
        return _keyed(versions, int(text))
    return _current_at(versions, parse_moment(text), text)


def number_of(versions: list[VersionRow], version: VersionRow) -> int:
    """The version's number (v1 is the oldest)."""
    return next(i for i, v in enumerate(versions, 1) if v.ts == version.ts)


def parse_moment(text: str) -> int:
    """An ISO 8601 date or date and time as epoch ms; local time without an offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise NotFound(f"not a version: {text!r} (expected {FORMS})") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is the user's local time
    return int(moment.timestamp() * SECOND_MS)


def existing(versions: list[VersionRow]) -> str:
    """'this article has v1–v4' (or only v1)."""
    if len(versions) == 1:
        return "this article has only v1"
    return f"this article has v1–v{len(versions)}"


def _nth(versions: list[VersionRow], n: int, missing: str) -> VersionRow:
    if not 1 <= n <= len(versions):
        raise NotFound(f"{missing}: {existing(versions)}")
    return versions[n - 1]


def _keyed(versions: list[VersionRow], ts: int) -> VersionRow:
    for version in versions:
        if version.ts == ts:
            return version
    raise NotFound(f"no version at {ts}: {existing(versions)} ({_span(versions)})")


def _current_at(versions: list[VersionRow], at: int, text: str) -> VersionRow:
    current = [v for v in versions if v.ts <= at]
    if not current:
        raise NotFound(
            f"no version at {text}: {existing(versions)}, "
            f"v1 first seen {local_time(versions[0].ts)}"
        )
    return current[-1]


def _span(versions: list[VersionRow]) -> str:
    first, last = versions[0].ts, versions[-1].ts
    return f"keys {first}" if first == last else f"keys {first} to {last}"
