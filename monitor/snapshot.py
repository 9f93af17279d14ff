"""The snapshot file format: parse and render, byte-exact.

A snapshot is five lines::

    <!--EPOCH_MS-->
    [TITLE](URL)
    ------
    (empty)
    HTML on one line

followed by a final newline. The timestamp is when the version was first seen and is
the version's key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import SnapshotError

MAX_FILE_BYTES = 8 * 1024 * 1024
UNDERLINE = "------"

_TS_LINE = re.compile(r"<!--(\d{1,16})-->")
# The title may itself contain brackets, so the URL is the last "](...)" on the line.
_LINK_LINE = re.compile(r"\[(.*)\]\(([^()\s]+)\)")


@dataclass(frozen=True)
class Snapshot:
    ts: int
    title: str
    url: str
    html: str

    def render(self) -> str:
        return f"<!--{self.ts}-->\n[{self.title}]({self.url})\n{UNDERLINE}\n\n{self.html}\n"


def parse(text: str, source: str = "<string>") -> Snapshot:
    """Parse snapshot text; raise SnapshotError naming source and line on any defect."""

    def fail(line: int, message: str) -> SnapshotError:
        return SnapshotError(source, line, message)

    if not text.strip():
        raise fail(1, "file is empty")
    if "\x00" in text:
        raise fail(1, "file is binary (contains NUL bytes)")
    lines = text.split("\n")
    ts_match = _TS_LINE.fullmatch(lines[0])
    if ts_match is None:
        raise fail(1, f"expected '<!--EPOCH_MS-->' timestamp, found {_excerpt(lines[0])}")
    if len(lines) < 2:
        raise fail(2, "missing '[title](url)' line")
    link = _LINK_LINE.fullmatch(lines[1])
    if link is None:
        raise fail(2, f"expected '[title](url)', found {_excerpt(lines[1])}")
    url = link.group(2)
    if not re.match(r"https?://[^/\s]+\.[^/\s]+", url):
        raise fail(2, f"bad URL {_excerpt(url)}: expected http(s)://host/...")
    if len(lines) < 3 or lines[2] != UNDERLINE:
        raise fail(3, f"expected '{UNDERLINE}' underline")
    if len(lines) < 4 or lines[3] != "":
        raise fail(4, "expected an empty line after the underline")
    if len(lines) < 5 or not lines[4].strip():
        raise fail(5, "missing the article HTML line")
    if len(lines) != 6 or lines[5] != "":
        problem = "missing final newline" if len(lines) == 5 else "HTML must be on one line"
        raise fail(min(len(lines), 6), problem)
    return Snapshot(ts=int(ts_match.group(1)), title=link.group(1), url=url, html=lines[4])


def read_file(path: Path) -> tuple[Snapshot, str]:
    """Read and parse one file; return the snapshot and its exact text."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SnapshotError(
                name, 1, f"file is too large ({size} bytes, limit {MAX_FILE_BYTES})"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(name, 0, f"cannot read: {exc.strerror or exc}") from exc
    if b"\x00" in data:
        raise SnapshotError(name, 1, "file is binary (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SnapshotError(name, line, "not valid UTF-8 text") from exc
    return parse(text, name), text


def _excerpt(value: str, limit: int = 40) -> str:
    shown = value if len(value) <= limit else value[:limit] + "…"
    return repr(shown)
