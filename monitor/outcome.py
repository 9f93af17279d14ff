"""One check's record: the article checked, what the check found, and the change to
the article's state that goes with it. The runner makes these; storage writes the
update, notify decides from the outcome what to tell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Counter = Literal["keep", "reset", "increment"]


@dataclass(frozen=True)
class ArticleTarget:
    """What a check needs of an article row."""

    id: int
    url: str
    state: str
    etag: str | None
    last_modified: str | None
    failures: int
    missing_count: int
    suspect_count: int
    page_digest: str | None = None
    last_change_ts: int | None = None
    added_at: int = 0
    host: str = ""
    claim: int = 0  # fencing token: the result is written only while it is current


@dataclass(frozen=True)
class PageMarks:
    """What a page that was read tells about the next check."""

    etag: str | None
    last_modified: str | None
    page_digest: str | None


@dataclass(frozen=True)
class ArticleUpdate:
    """An article's state change from one check; written in one UPDATE."""

    checked_at: int
    error: str | None = None  # becomes last_error (None clears it)
    failures: Counter = "keep"  # consecutive failed checks
    missing: Counter = "keep"  # consecutive 404/410s
    suspect: Counter = "keep"  # a shrunken text held back once
    page: PageMarks | None = None  # a page was read: the article is active again


# "stale": another checker claimed the article meanwhile; this result was dropped.
Outcome = Literal["unchanged", "changed", "new", "removed", "restored", "missing", "error", "stale"]


@dataclass(frozen=True)
class CheckOutcome:
    """What one check found, and the article's state change it causes."""

    target: ArticleTarget
    outcome: Outcome
    update: ArticleUpdate
    kinds: tuple[str, ...] = ()
    detail: str = ""
    version_ts: int | None = None  # the version it recorded, if any

    @property
    def article_id(self) -> int:
        return self.target.id

    @property
    def url(self) -> str:
        return self.target.url

    def line(self) -> str:
        if self.outcome == "changed":
            return f"changed ({', '.join(self.kinds)})  {self.url}"
        if self.outcome in ("error", "missing", "stale"):
            return f"{self.outcome} ({self.detail})  {self.url}"
        return f"{self.outcome}  {self.url}"

    def as_dict(self) -> dict[str, object]:
        return {
            "article_id": self.article_id,
            "url": self.url,
            "outcome": self.outcome,
            "kinds": list(self.kinds),
            "detail": self.detail,
            "version_ts": self.version_ts,
        }
