"""Text from pages anyone can write, made safe to show: on a terminal, in a subject.

Control characters (a terminal escape sequence that retitles the window or clears the
screen, a bell, a carriage return that overwrites a line) and the bidi overrides that
make text read differently from what it is are shown as escapes.
"""

from __future__ import annotations

import re

_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\r\n]")


def visible(text: str) -> str:
    """Control characters and bidi overrides as `\\u001b`-style escapes."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def terminal(value: object) -> str:
    """One value for a terminal line: visible, and a line break shown as an escape."""
    return visible(str(value)).replace("\n", "\\u000a")


def one_line(text: str, limit: int = 200) -> str:
    """For a message subject: one line of visible text, at most `limit` characters."""
    flat = " ".join(visible(_LINE_BREAKS.sub(" ", text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
