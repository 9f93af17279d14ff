"""Chat messages within each service's length limit, shortened by whole blocks.

A message over a service's limit is refused (Telegram 4096 characters, Discord 2000),
and one cut at an arbitrary character can end inside `~~…~~` or a `\\*` escape and
garble the rest. So changed blocks are dropped from the end, whole, and a note says
how many and how to see them; only a single block too long on its own is shortened,
at a point outside any marker, with its open markers closed.
"""

from __future__ import annotations

import re

from monitor.diffing.render import md_escape, split_markdown
from monitor.notify.messages import whole_diff_command

ELLIPSIS = " …"
# Between the alerts of a chat digest; never inside one (md_escape escapes "-").
DIGEST_SEPARATOR = "\n---\n\n"
_LEAST_SHARE = 300  # below this an alert says nothing useful: it is left out instead
# Markdown units that must never be split: an escape, a marker, one character.
_UNITS = re.compile(r"\\.|~~|\*\*|.", re.DOTALL)


def more_note(count: int, url: str) -> str:
    """How many blocks were left out, and the command that shows them all."""
    # The URL comes from the message's link, where md_url encoded what ends a link.
    plain = re.sub(r"%(28|29|3C|3E|5B|5D|20)", lambda m: chr(int(m.group(1), 16)), url)
    where = f": {whole_diff_command(plain)}" if url else ""
    return md_escape(f"… {count} more changed blocks{where}")


def fit_digest(text: str, limit: int) -> str:
    """A message of one or more alerts (joined by DIGEST_SEPARATOR) in at most
    `limit` characters: each alert fitted to its share, so trimming one never swallows
    the next one's title and link; short alerts leave their unused share to others."""
    alerts = text.split(DIGEST_SEPARATOR)
    if len(alerts) == 1 or len(text) <= limit:
        return fit_markdown(text, limit)
    room = limit - len(DIGEST_SEPARATOR) * len(alerts)  # one more, for the note
    kept = alerts[: max(1, room // _LEAST_SHARE)]
    note = ""
    if len(kept) < len(alerts):
        note = md_escape(f"… {len(alerts) - len(kept)} more changed articles in this digest")
        room -= len(note)
    fitted = [fit_markdown(a, share) for a, share in zip(kept, _shares(kept, room), strict=True)]
    return DIGEST_SEPARATOR.join([*(f.rstrip("\n") for f in fitted), *([note] if note else [])])


def _shares(alerts: list[str], room: int) -> list[int]:
    """Split `room` among the alerts: the shortest first get what they need, the
    rest share what is left evenly."""
    shares = [0] * len(alerts)
    order = sorted(range(len(alerts)), key=lambda i: len(alerts[i]))
    for done, i in enumerate(order):
        fair = room // (len(alerts) - done)
        shares[i] = min(len(alerts[i]), fair)
        room -= shares[i]
    return shares


def fit_markdown(text: str, limit: int) -> str:
    """`text` (from render_markdown, or any of our markdown) in at most `limit`
    characters."""
    if len(text) <= limit:
        return text
    parts = split_markdown(text)
    blocks = [f"{heading}\n\n{body}" if body else heading for heading, body in parts.blocks]
    for keep in range(len(blocks), 0, -1):
        left = len(blocks) - keep + parts.hidden
        candidate = _join(parts.head, blocks[:keep], more_note(left, parts.url) if left else "")
        if len(candidate) <= limit:
            return candidate
    left = len(blocks) - 1 + parts.hidden
    note = more_note(left, parts.url) if left else ""
    without = _join(parts.head, [], note)
    if blocks and len(without) + 2 < limit:
        room = limit - len(without) - 2
        heading, body = parts.blocks[0]
        first = _shorten_block(heading, body, room)
        if first:
            return _join(parts.head, [first], note)
    if len(without) <= limit:
        return without
    return cut(text, limit)


def _join(head: str, blocks: list[str], note: str) -> str:
    return "\n\n".join(p for p in [head, *blocks, note] if p) + "\n"


def _shorten_block(heading: str, body: str, room: int) -> str:
    keep = room - len(heading) - 2
    if keep < 12:  # not enough for any of the quote to be worth showing
        return ""
    return f"{heading}\n\n{squeeze(body, keep)}"


def _runs(text: str) -> list[tuple[str, list[str]]]:
    """Text as runs of units: ("~~" or "**", what is marked) or ("", plain text)."""
    runs: list[tuple[str, list[str]]] = [("", [])]
    for match in _UNITS.finditer(text):
        unit = match.group()
        marker = runs[-1][0]
        if unit in ("~~", "**") and marker in ("", unit):
            runs.append(("" if marker else unit, []))
        else:
            runs[-1][1].append(unit)
    return [run for run in runs if run[1]]


def _capped(runs: list[tuple[str, list[str]]], cap: int) -> str:
    out = []
    for marker, units in runs:
        shown = "".join(units[:cap]) + ("…" if len(units) > cap else "")
        out.append(f"{marker}{shown}{marker}")
    return "".join(out)


def squeeze(text: str, limit: int) -> str:
    """One block's diff in at most `limit` characters: every run (kept, deleted,
    inserted) shortened alike, so an edit still shows both what went and what came."""
    if len(text) <= limit:
        return text
    runs = _runs(text)
    low, high = 0, max((len(units) for _, units in runs), default=0)
    while low < high:  # the largest cap on each run's length that fits
        mid = (low + high + 1) // 2
        if len(_capped(runs, mid)) <= limit:
            low = mid
        else:
            high = mid - 1
    return _capped(runs, low) if low >= 2 else cut(text, limit)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters of markdown ending in "…", cut between units, with
    the markers left open closed again."""
    if len(text) <= limit:
        return text
    out: list[str] = []
    size = 0
    open_markers: list[str] = []
    budget = limit - len(ELLIPSIS)
    for match in _UNITS.finditer(text):
        unit = match.group()
        closing = unit in open_markers
        tail = sum(len(m) for m in open_markers) - (len(unit) if closing else 0)
        opening_cost = len(unit) if unit in ("~~", "**") and not closing else 0
        if size + len(unit) + tail + opening_cost > budget:
            break
        out.append(unit)
        size += len(unit)
        if unit in ("~~", "**"):
            if closing:
                open_markers.remove(unit)
            else:
                open_markers.append(unit)
    while out and open_markers and out[-1] == open_markers[-1]:
        out.pop()  # a marker opened on nothing: drop it rather than show `~~~~`
        open_markers.pop()
    closed = "".join(out).rstrip() + "".join(reversed(open_markers))
    return closed + ELLIPSIS
