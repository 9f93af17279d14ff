"""One live check per article: fetch -> extract -> compare -> record.

Fetches run concurrently; every result is written by the one writer (this thread)
in its own short transaction, so a crash loses at most the checks in flight.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor.article import Article
from monitor.config import Config
from monitor.errors import FetchError
from monitor.extract import ExtractionError, extract, page_digest
from monitor.fetch import Fetcher, Page
from monitor.history import record, record_removal
from monitor.schedule import jittered, next_interval
from monitor.store import Store
from monitor.urls import normalize

if TYPE_CHECKING:
    from monitor.parsing import ParserPool

Clock = Callable[[], int]
log = logging.getLogger("monitor.check")


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Target:
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


# What a check needs of an article row; the daemon's claim returns the same columns.
TARGET_COLUMNS = ", ".join(f.name for f in dataclasses.fields(Target))


@dataclass
class CheckResult:
    article_id: int
    url: str
    outcome: str  # unchanged | changed | new | removed | restored | missing | error
    kinds: list[str] = field(default_factory=list)
    detail: str = ""
    version_ts: int | None = None

    def line(self) -> str:
        if self.outcome == "changed":
            return f"changed ({', '.join(self.kinds)})  {self.url}"
        if self.outcome in ("error", "missing"):
            return f"{self.outcome} ({self.detail})  {self.url}"
        return f"{self.outcome}  {self.url}"


def targets(store: Store, ids: list[int] | None, now: int, due_only: bool) -> list[Target]:
    sql = f"SELECT {TARGET_COLUMNS} FROM articles WHERE state != 'stopped'"
    args: list[object] = []
    if ids is not None:
        sql += f" AND id IN ({','.join('?' * len(ids))})"
        args += ids
    elif due_only:
        sql += " AND next_check_at <= ?"
        args.append(now)
    rows = store.conn.execute(sql + " ORDER BY next_check_at, id", args).fetchall()
    return [Target(**dict(r)) for r in rows]


@dataclass
class Fetched:
    """One fetch's outcome on its way to the writer."""

    target: Target
    page: Page | None = None
    error: FetchError | None = None
    digest: str | None = None  # of the part of a 200 page the extractor reads
    parsed: Article | Exception | None = None  # extracted ahead by a parser pool


async def run_checks(
    store: Store,
    config: Config,
    batch: list[Target],
    *,
    clock: Clock = wall_clock_ms,
    fetcher: Fetcher | None = None,
    parser: ParserPool | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Check a batch; with a `parser`, pages are parsed in its worker processes while
    this one goes on fetching and writing."""
    own = fetcher is None
    active = fetcher or Fetcher(config.fetch)
    results: list[CheckResult] = []
    finished: asyncio.Queue[Fetched] = asyncio.Queue()

    async def fetch_one(target: Target) -> None:
        try:
            outcome = await _fetch(active, config, target, parser)
        except Exception as exc:  # a bug must not leave the loop waiting for this one
            log.exception("fetching %s failed", target.url)
            outcome = Fetched(target, error=FetchError(f"internal error: {exc!r}"))
        finished.put_nowait(outcome)

    tasks = [asyncio.create_task(fetch_one(t)) for t in batch]
    try:
        while len(results) < len(batch):
            ready = [await finished.get()]
            while not finished.empty():
                ready.append(finished.get_nowait())
            # Everything that finished meanwhile is recorded in one transaction: one
            # commit per wake-up instead of one per article.
            with store.write():
                settled = [_apply_isolated(store, config, item, clock()) for item in ready]
            results.extend(settled)
            if on_result is not None:
                for result in settled:
                    on_result(result)
    finally:
        for task in tasks:
            task.cancel()
        if own:
            await active.aclose()
    return results


async def _fetch(
    fetcher: Fetcher, config: Config, target: Target, parser: ParserPool | None
) -> Fetched:
    try:
        page = await fetcher.fetch(config.fetch_url(target.url), target.etag, target.last_modified)
    except FetchError as exc:
        return Fetched(target, error=exc)
    if page.status != 200:
        return Fetched(target, page)
    digest = page_digest(page.raw, target.url, page.content_type)
    if parser is None or _known_bytes(target, digest):
        return Fetched(target, page, digest=digest)
    try:
        parsed: Article | Exception = await parser.parse(page.raw, page.charset, target.url)
    except Exception as exc:  # ExtractionError, or a bug: the writer deals with it
        parsed = exc
    return Fetched(target, page, digest=digest, parsed=parsed)


def _known_bytes(target: Target, digest: str | None) -> bool:
    """The part of the page the extractor reads is what it was last time."""
    return digest is not None and digest == target.page_digest and target.state == "active"


def _apply_isolated(store: Store, config: Config, item: Fetched, now: int) -> CheckResult:
    """One article's result inside the batch's transaction; a bug in one article's
    handling rolls back that article alone. Database errors end the whole batch."""
    target = item.target
    store.conn.execute("SAVEPOINT check_result")
    try:
        result = apply_result(store, config, target, item.page, item.error, now, ahead=item)
    except sqlite3.Error:
        raise
    except Exception as exc:
        store.conn.execute("ROLLBACK TO check_result")
        store.conn.execute("RELEASE check_result")
        log.exception("checking %s failed", target.url)
        return CheckResult(target.id, target.url, "error", detail=f"internal error: {exc!r}")
    store.conn.execute("RELEASE check_result")
    return result


def apply_result(
    store: Store,
    config: Config,
    target: Target,
    page: Page | None,
    error: FetchError | None,
    now: int,
    ahead: Fetched | None = None,
) -> CheckResult:
    """Record one check; `ahead` carries what the fetching side already worked out."""
    pending: dict[str, object] = {}
    with store.write():
        if error is not None:
            result = _failed(store, pending, config, target, error, now)
        else:
            assert page is not None
            result = _fetched(store, pending, config, target, page, now, ahead)
        _save(
            store, pending, config, target, history_written=result.version_ts is not None, now=now
        )
        queue_alerts(store, config, target, result, now)
    return result


def queue_alerts(
    store: Store, config: Config, target: Target, result: CheckResult, now: int
) -> None:
    """Alerts go into the outbox in the same transaction as what caused them."""
    from monitor import api, notify

    threshold = config.notify.failure_alert_after
    if result.outcome == "unchanged" and target.failures < threshold:
        return  # the common case: nothing to say
    title = (
        store.conn.execute("SELECT title FROM articles WHERE id = ?", (target.id,)).fetchone()[0]
        or target.url
    )
    if result.outcome in ("changed", "restored") and result.version_ts is not None:
        if not notify.worth_notifying(config, result.kinds):
            return
        if notify.flipflop_suppressed(store, config, target.id, result.kinds, now):
            return
        header, diff = api.diff(store, str(target.id), None, result.version_ts)
        event = "restored" if result.outcome == "restored" else "change"
        text = notify.change_text(config, header, diff, event)
        notify.queue(
            store, config, target.id, target.url, event, result.kinds, now, text, result.version_ts
        )
    elif result.outcome == "removed" and notify.worth_notifying(config, ["removed"]):
        text = notify.removal_text(title, target.url, result.detail, now)
        notify.queue(
            store,
            config,
            target.id,
            target.url,
            "removed",
            ["removed"],
            now,
            text,
            result.version_ts,
        )
    elif (
        result.outcome == "error"
        and target.failures + 1 == threshold
        and notify.worth_notifying(config, ["failing"])
    ):
        line = f"{threshold} checks in a row failed; the last: {result.detail}."
        _queue_health(store, config, target, title, "failing", line, now)
    recovered = result.outcome not in ("error", "missing") and target.failures >= threshold
    if recovered and notify.worth_notifying(config, ["recovered"]):
        line = f"Checks work again after {target.failures} failures."
        _queue_health(store, config, target, title, "recovered", line, now)


def _queue_health(
    store: Store, config: Config, target: Target, title: str, event: str, line: str, now: int
) -> None:
    """A 'failing' or 'recovered' alert: about fetching the article, not its text."""
    from monitor import notify

    text = notify.plain_text(f"[{event}] {title}", title, target.url, [line])
    notify.queue(store, config, target.id, target.url, event, [event], now, text)


def _failed(
    store: Store,
    pending: dict[str, object],
    config: Config,
    target: Target,
    error: FetchError,
    now: int,
) -> CheckResult:
    if error.status in (404, 410):
        return _missing(store, pending, config, target, f"HTTP {error.status}", now)
    pending.update(failures=target.failures + 1, last_error=str(error), last_check_at=now)
    store.add_observation(target.id, now, "error", None)
    return CheckResult(target.id, target.url, "error", detail=str(error))


def _missing(
    store: Store, pending: dict[str, object], config: Config, target: Target, why: str, now: int
) -> CheckResult:
    seen = target.missing_count + 1
    pending.update(missing_count=seen, last_check_at=now, last_error=why)
    if target.state == "removed":
        store.add_observation(target.id, now, "missing", None)
        return CheckResult(target.id, target.url, "unchanged", detail="still removed")
    if seen < config.check.removal_confirmations:
        store.add_observation(target.id, now, "missing", None)
        detail = f"{why}, {seen} of {config.check.removal_confirmations} before removal"
        return CheckResult(target.id, target.url, "missing", detail=detail)
    record_removal(store, target.id, now)
    return CheckResult(target.id, target.url, "removed", ["removed"], why, now)


def _fetched(
    store: Store,
    pending: dict[str, object],
    config: Config,
    target: Target,
    page: Page,
    now: int,
    ahead: Fetched | None = None,
) -> CheckResult:
    if page.status == 304:
        store.add_observation(target.id, now, "unchanged", None)
        pending.update(failures=0, missing_count=0, last_check_at=now, last_error=None)
        return CheckResult(target.id, target.url, "unchanged", detail="304")
    if page.url != config.fetch_url(target.url) and not _same_article(config, target.url, page.url):
        return _missing(store, pending, config, target, f"redirected to {page.url}", now)
    if ahead is not None and ahead.page is page:
        digest = ahead.digest  # worked out on the fetching side
    else:
        digest = page_digest(page.raw, target.url, page.content_type)
    if _known_bytes(target, digest):
        # Same bytes where the article is: unchanged, and no need to parse the page.
        store.add_observation(target.id, now, "duplicate", None)
        _succeeded(pending, page, now, digest)
        return CheckResult(target.id, target.url, "unchanged")
    try:
        article = _extracted(target, page, ahead)
    except ExtractionError as exc:
        pending.update(failures=target.failures + 1, last_error=str(exc), last_check_at=now)
        store.add_observation(target.id, now, "error", None)
        return CheckResult(target.id, target.url, "error", detail=f"extraction: {exc}")
    latest = store.latest_version(target.id)
    if (
        latest is not None
        and latest.fingerprint == article.fingerprint()
        and latest.pudate == article.pudate
    ):
        # Unchanged: the cheap path, one small observation row and the article's counters.
        store.add_observation(target.id, now, "duplicate", latest.ts)
        _succeeded(pending, page, now, digest)
        return CheckResult(target.id, target.url, "unchanged")
    if latest is not None and latest.fingerprint is not None and target.suspect_count < 1:
        before = store.load_article(latest).text_length()
        if article.text_length() < before * config.check.shrink_ratio:
            detail = f"text shrank from {before} to {article.text_length()} chars; held as suspect"
            pending.update(
                suspect_count=1,
                failures=target.failures + 1,
                last_error=detail,
                last_check_at=now,
            )
            store.add_observation(target.id, now, "suspect", None)
            return CheckResult(target.id, target.url, "error", detail=detail)
    outcome = record(store, target.id, now, article, source="fetch", raw_html=page.raw)
    _succeeded(pending, page, now, digest)
    if not outcome.new_version:
        return CheckResult(target.id, target.url, "unchanged")
    if "first" in outcome.kinds:
        return CheckResult(target.id, target.url, "new", outcome.kinds, version_ts=now)
    kind = "restored" if "restored" in outcome.kinds else "changed"
    return CheckResult(target.id, target.url, kind, outcome.kinds, version_ts=now)


def _extracted(target: Target, page: Page, ahead: Fetched | None) -> Article:
    parsed = ahead.parsed if ahead is not None and ahead.page is page else None
    if parsed is None:
        return extract(page.text(), target.url)
    if isinstance(parsed, Exception):
        raise parsed
    return parsed


def _succeeded(pending: dict[str, object], page: Page, now: int, digest: str | None) -> None:
    pending.update(
        failures=0,
        missing_count=0,
        suspect_count=0,
        last_check_at=now,
        last_error=None,
        etag=page.etag,
        last_modified=page.last_modified,
        state="active",
        page_digest=digest,
    )


def _same_article(config: Config, canonical: str, final_url: str) -> bool:
    for prefix, target in config.mirrors:
        if final_url.startswith(target):
            final_url = prefix + final_url[len(target) :]
            break
    try:
        return normalize(final_url) == canonical
    except Exception:
        return False


def _save(
    store: Store,
    pending: dict[str, object],
    config: Config,
    target: Target,
    *,
    history_written: bool,
    now: int,
) -> None:
    """The article's new state and next check, written in one UPDATE."""
    if history_written:  # the last change may have moved: ask the database
        row = store.conn.execute(
            "SELECT coalesce(last_change_ts, added_at), added_at FROM articles WHERE id = ?",
            (target.id,),
        ).fetchone()
        changed, added = row[0], row[1]
    else:
        changed, added = target.last_change_ts or target.added_at, target.added_at
    # A version key is the time it was seen; an imported archive may be old, but the
    # article's watch starts when it was added.
    failures = int(pending.get("failures", target.failures))  # type: ignore[call-overload]
    interval = next_interval(config.schedule, now, max(changed, added), failures)
    if interval is None:
        pending["state"] = "stopped"
    else:
        pending["next_check_at"] = now + jittered(config.schedule, interval)
    pending["claimed_until"] = None
    columns = ", ".join(f"{k} = ?" for k in pending)
    store.conn.execute(
        f"UPDATE articles SET {columns} WHERE id = ?", (*pending.values(), target.id)
    )
