"""What `monitor list` and `monitor history` print: aligned tables of rows the store
reads. Kept apart from reading.py, which diffs and loads versions, so that listing
imports neither the diff engine nor the parsers (CLI start-up)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.clock import local_time, short_local_time
from monitor.display import clip, table, terminal
from monitor.storage.articles import ArticleListing, ArticleRow
from monitor.storage.database import Store


@dataclass(frozen=True)
class HistoryEntry:
    n: int  # v1, v2, … oldest first: what --at, --from and --to accept as vN
    ts: int
    title: str
    kinds: list[str]
    chars_added: int
    chars_removed: int
    pudate: str
    source: str

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "ts": self.ts,
            "title": self.title,
            "kinds": self.kinds,
            "chars_added": self.chars_added,
            "chars_removed": self.chars_removed,
            "pudate": self.pudate,
            "source": self.source,
        }


LIST_HEADER = ["ID", "VERSIONS", "STATE", "CHANGED", "CHECKED", "NEXT", "ERROR", "TITLE", "URL"]
TITLE_COLUMNS = 50  # longer titles are cut (in display columns: CJK counts double)
ERROR_COLUMNS = 40


def listing_lines(rows: list[ArticleListing], now: int) -> list[str]:
    """`monitor list`: a header row, then one aligned row per article."""
    return table(LIST_HEADER, [_listing_row(r, now) for r in rows])


def _listing_row(r: ArticleListing, now: int) -> list[str]:
    # A paused or unwatched article is not being checked: that says more than how
    # its last checks went.
    failing = r.failures > 0 and r.state not in ("paused", "unwatched")
    return [
        str(r.id),
        str(r.versions),
        f"failing ({r.failures})" if failing else r.state,
        _short_time(r.last_change_ts),
        _short_time(r.last_check_at),
        _next_check(r, now),
        clip(_cell(r.last_error or ""), ERROR_COLUMNS) if failing else "",
        # A page never fetched has no title yet: its URL says what it is.
        clip(_cell(r.title) or terminal(r.url), TITLE_COLUMNS),
        terminal(r.url),
    ]


def _next_check(r: ArticleListing, now: int) -> str:
    # (The listing has no next check for a paused or unwatched article.)
    if r.next_check_at is None or r.state == "stopped":
        return "-"
    return "due" if r.next_check_at <= now else _short_time(r.next_check_at)


def _short_time(ts: int | None) -> str:
    return "-" if ts is None else short_local_time(ts)


def history(store: Store, ref: str) -> tuple[ArticleRow, list[HistoryEntry]]:
    article = store.resolve(ref)
    entries = [
        HistoryEntry(n, v.ts, v.title, v.kinds, v.chars_added, v.chars_removed, v.pudate, v.source)
        for n, v in enumerate(store.versions(article.id), 1)
    ]
    return article, entries


HISTORY_HEADER = ["V", "KEY", "FIRST SEEN", "KINDS", "+CHARS", "-CHARS", "TITLE"]


def history_lines(entries: list[HistoryEntry]) -> list[str]:
    """`monitor history`: a header row, then one aligned row per version."""
    rows = [
        [
            f"v{e.n}",
            str(e.ts),
            local_time(e.ts),
            ",".join(e.kinds),
            f"+{e.chars_added}",
            f"-{e.chars_removed}",
            _cell(e.title) or "-",
        ]
        for e in entries
    ]
    return table(HISTORY_HEADER, rows)


def _cell(text: str) -> str:
    """A cell: one line, a line break or control character shown as an escape."""
    return terminal(text.strip())
