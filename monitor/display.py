"""Text from pages anyone can write, made safe to show: on a terminal, in a subject.

Control characters (a terminal escape sequence that retitles the window or clears the
screen, a bell, a carriage return that overwrites a line) and the bidi overrides that
make text read differently from what it is are shown as escapes. Tables are laid out
by display width, so a row with Chinese in it lines up with the others.
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


def width(text: str) -> int:
    """Columns `text` takes on a terminal: a CJK character takes two, a combining mark
    none, so tables line up whatever script their cells are in."""
    from wcwidth import wcswidth

    columns = wcswidth(text)
    # -1 means a control character: callers pass `terminal()` text, which has none,
    # but a wrong width must never break a table.
    return columns if columns >= 0 else len(text)


def clip(text: str, limit: int) -> str:
    """At most `limit` columns of `text`, ending in … when cut."""
    if width(text) <= limit:
        return text
    kept, used = [], 0
    for char in text:
        char_width = width(char)
        if used + char_width > limit - 1:
            break
        kept.append(char)
        used += char_width
    return "".join(kept) + "…"


def pad(text: str, columns: int) -> str:
    """`text` followed by spaces up to `columns` display columns."""
    return text + " " * max(0, columns - width(text))


def table(header: list[str], rows: list[list[str]], gap: int = 2) -> list[str]:
    """Rows aligned in columns by display width; the last column is not padded."""
    widths = [max(width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    spacer = " " * gap
    return [
        spacer.join([pad(cell, widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]).rstrip()
        for row in [header, *rows]
    ]
