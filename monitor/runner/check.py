"""One live check per article: fetch -> extract -> compare -> record -> alert.

Fetches run concurrently; every result is written by the one writer (this task):
everything that finished meanwhile goes into one transaction, with a savepoint per
article, so a crash loses at most the checks in flight and a bug in one article's
handling rolls back that article alone.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from monitor.article import Article
from monitor.clock import Clock, now_ms, seconds_ms
from monitor.config import Config
from monitor.errors import ExtractionError, FetchError
from monitor.extraction.table import examine, extract, page_signature
from monitor.fetching.fetcher import Fetcher, Page
from monitor.history.models import load_article
from monitor.history.recording import record, record_removal
from monitor.masking import mask_credentials
from monitor.notify.policy import queue_alerts
from monitor.outcome import ArticleTarget, ArticleUpdate, CheckOutcome, Outcome, PageMarks
from monitor.runner.feeding import HostFeeder
from monitor.runner.schedule import jittered, next_interval
from monitor.storage.checks import ClaimedElsewhere, ClaimRequest, StaleClaim
from monitor.storage.database import Store
from monitor.urls import normalize, other_scheme

if TYPE_CHECKING:
    from monitor.extraction.parser_pool import ParserPool

log = logging.getLogger("monitor.check")
T = TypeVar("T")


@dataclass(frozen=True)
class Fetched:
    """One fetch's outcome on its way to the writer."""

    target: ArticleTarget
    page: Page | None = None
    error: FetchError | None = None
    digest: str | None = None  # of the part of a 200 page the extractor reads
    parsed: Article | Exception | None = None  # extracted ahead by a parser pool


class CheckPipeline:
    """Checks in flight: fetch tasks run concurrently and hand what they found to one
    writer, which records everything that finished meanwhile in one transaction.

    Submit targets as slots free up (the daemon) or all at once (`monitor check`);
    `settle()` waits for at least one check to finish and records what is ready.
    """

    def __init__(
        self,
        store: Store,
        config: Config,
        fetcher: Fetcher,
        *,
        parser: ParserPool | None = None,
        clock: Clock = now_ms,
        on_result: Callable[[CheckOutcome], None] | None = None,
    ) -> None:
        self.store, self.config, self.fetcher = store, config, fetcher
        self.parser, self.clock, self.on_result = parser, clock, on_result
        self._finished: asyncio.Queue[Fetched] = asyncio.Queue()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._targets: dict[int, ArticleTarget] = {}

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def busy_hosts(self) -> dict[str, int]:
        """Checks in flight per host (what the next claim must leave room for)."""
        busy: dict[str, int] = {}
        for target in self._targets.values():
            busy[target.host] = busy.get(target.host, 0) + 1
        return busy

    def submit(self, target: ArticleTarget) -> None:
        self._targets[target.id] = target
        self._tasks[target.id] = asyncio.create_task(self._fetch_one(target))

    async def _fetch_one(self, target: ArticleTarget) -> None:
        try:
            found = await fetch_target(self.fetcher, self.config, target, self.parser)
        except Exception as exc:  # a bug must not leave the writer waiting for this one
            log.exception("fetching %s failed", target.url)
            found = Fetched(target, error=FetchError(f"internal error: {exc!r}"))
        self._finished.put_nowait(found)

    async def settle(self, timeout: float | None = None) -> list[CheckOutcome]:
        """Wait (up to `timeout` s) for a check to finish; record all that are ready."""
        try:
            async with asyncio.timeout(timeout):
                ready = [await self._finished.get()]
        except TimeoutError:
            return []
        while not self._finished.empty():
            ready.append(self._finished.get_nowait())
        # One transaction per wake-up instead of one per article.
        with self.store.write():
            settled = [_apply_isolated(self.store, self.config, f, self.clock()) for f in ready]
        for found in ready:
            self._tasks.pop(found.target.id, None)
            self._targets.pop(found.target.id, None)
        if self.on_result is not None:
            for result in settled:
                self.on_result(result)
        return settled

    def abandon(self) -> list[ArticleTarget]:
        """Cancel the checks still in flight; their articles stay due (nothing of them
        is recorded) and their claims are for the caller to release."""
        for task in self._tasks.values():
            task.cancel()
        left = list(self._targets.values())
        self._tasks.clear()
        self._targets.clear()
        return left


async def run_checks(
    store: Store,
    config: Config,
    batch: list[ArticleTarget],
    *,
    clock: Clock = now_ms,
    fetcher: Fetcher | None = None,
    parser: ParserPool | None = None,
    on_result: Callable[[CheckOutcome], None] | None = None,
) -> list[CheckOutcome]:
    """Check articles already claimed; with a `parser`, pages are parsed in its worker
    processes while this one goes on fetching and writing."""
    feeder: HostFeeder[ArticleTarget] = HostFeeder(config.fetch.per_host_concurrency)
    for target in batch:
        feeder.add(target.host, target)
    results: list[CheckOutcome] = []

    def collect(result: CheckOutcome) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    def start(items: list[tuple[str, ArticleTarget]]) -> list[ArticleTarget]:
        return [target for _, target in items]

    await _drive(store, config, feeder, start, fetcher, parser, clock, collect)
    return results


@dataclass
class PassSummary:
    checked: int = 0
    skipped: list[ClaimedElsewhere] = field(default_factory=list)


async def check_pass(
    store: Store,
    config: Config,
    *,
    ids: list[int] | None,
    due_only: bool,
    owner: str,
    fetcher: Fetcher | None = None,
    parser: ParserPool | None = None,
    on_result: Callable[[CheckOutcome], None] | None = None,
    on_skipped: Callable[[ClaimedElsewhere], None] | None = None,
) -> PassSummary:
    """One `monitor check` pass over these ids, the due articles, or all: claimed the
    way the daemon claims, a few at a time as slots free up, host by host; articles
    another process is checking are skipped (and reported). Whatever the number of
    articles, at most `fetch.concurrency` pages are in memory at once."""
    summary = PassSummary()
    feeder: HostFeeder[int] = HostFeeder(config.fetch.per_host_concurrency)
    with store.write():
        store.release_dead_claims(now_ms())
    for article_id, host in store.pass_candidates(ids, due_only, now_ms()):
        feeder.add(host, article_id)
    lease = seconds_ms(config.daemon.lease_seconds)

    def start(items: list[tuple[str, int]]) -> list[ArticleTarget]:
        request = ClaimRequest(now_ms(), lease, owner)
        with store.write():
            claimed, elsewhere = store.claim_ids(request, [article_id for _, article_id in items])
        for other in elsewhere:
            feeder.done(other.host)
            summary.skipped.append(other)
            if on_skipped is not None:
                on_skipped(other)
        # Paused, unwatched or deleted since the pass was listed: their host slots free.
        settled = {t.id for t in claimed} | {o.article_id for o in elsewhere}
        for host, article_id in items:
            if article_id not in settled:
                feeder.done(host)
        return claimed

    def counted(result: CheckOutcome) -> None:
        summary.checked += 1
        if on_result is not None:
            on_result(result)

    try:
        await _drive(store, config, feeder, start, fetcher, parser, now_ms, counted)
    finally:
        with store.write():
            store.release_claims(owner)  # what an interrupted pass still held
    return summary


async def _drive(
    store: Store,
    config: Config,
    feeder: HostFeeder[T],
    start: Callable[[list[tuple[str, T]]], list[ArticleTarget]],
    fetcher: Fetcher | None,
    parser: ParserPool | None,
    clock: Clock,
    on_result: Callable[[CheckOutcome], None],
) -> None:
    """Keep up to `fetch.concurrency` checks in flight until the feeder is empty; a
    check starts only when its host has room, so no deadline is spent in a queue."""
    active = fetcher or fetcher_for(config)
    pipeline = CheckPipeline(store, config, active, parser=parser, clock=clock)
    try:
        while len(feeder) or pipeline.in_flight:
            free = config.fetch.concurrency - pipeline.in_flight
            if free > 0 and len(feeder):
                taken = feeder.take(free)
                if not taken and not pipeline.in_flight:
                    raise AssertionError("work waits but no host has room")  # a slot leaked
                for target in start(taken):
                    pipeline.submit(target)
            if not pipeline.in_flight:
                continue  # everything taken was skipped: take more
            for result in await pipeline.settle():
                feeder.done(result.target.host)
                on_result(result)
    finally:
        pipeline.abandon()
        if fetcher is None:
            await active.aclose()


def fetcher_for(config: Config) -> Fetcher:
    """A Fetcher that trusts the hosts of the user's mirror rules."""
    return Fetcher(config.fetch, trusted=config.mirror_endpoints())


async def fetch_target(
    fetcher: Fetcher, config: Config, target: ArticleTarget, parser: ParserPool | None
) -> Fetched:
    """Fetch one article's page and work out what can be worked out off the writer;
    the whole of it (retries and parsing included) within the check's deadline."""
    deadline = config.fetch.total_timeout_s
    try:
        async with asyncio.timeout(deadline):
            return await _fetch_and_parse(fetcher, config, target, parser)
    except TimeoutError:
        error = FetchError(f"check took longer than {deadline:g} s", transient=True)
        return Fetched(target, error=error)


async def _fetch_and_parse(
    fetcher: Fetcher, config: Config, target: ArticleTarget, parser: ParserPool | None
) -> Fetched:
    try:
        page = await fetcher.fetch(config.fetch_url(target.url), target.etag, target.last_modified)
    except FetchError as exc:
        return Fetched(target, error=exc)
    if page.status != 200:
        return Fetched(target, page)
    # The page's signature, and the article only when the signature moved: in the
    # parser pool's workers when there is one, else here.
    known = target.page_digest if target.state == "active" else None
    try:
        if parser is None:
            digest, article = examine(page.raw, page.charset, target.url, known)
            return Fetched(target, page, digest=digest, parsed=article)
        elif known is not None:
            # Most pages are unchanged: their signature costs less here than handing
            # the page over (measured with the server on the same two cores).
            digest = page_signature(page.text(), target.url)
            if digest is not None and digest == known:
                return Fetched(target, page, digest=digest)
            article = await parser.parse(page.raw, page.charset, target.url)
        else:
            digest, article = await parser.examine(page.raw, page.charset, target.url, known)
    except Exception as exc:  # ExtractionError, or a bug: the writer deals with it
        return Fetched(target, page, parsed=exc)
    return Fetched(target, page, digest=digest, parsed=article)


def _known_bytes(target: ArticleTarget, digest: str | None) -> bool:
    """What the extractor reads of the page is what it read last time."""
    return digest is not None and digest == target.page_digest and target.state == "active"


def _apply_isolated(store: Store, config: Config, item: Fetched, now: int) -> CheckOutcome:
    """One article's result inside the batch's transaction; a bug in one article's
    handling rolls back that article alone. Database errors end the whole batch."""
    target = item.target
    try:
        with store.savepoint("check_result"):
            return apply_fetched(store, config, item, now)
    except sqlite3.Error:
        raise
    except StaleClaim:
        return _stale(target, now)
    except Exception as exc:
        log.exception("checking %s failed", target.url)
        said = mask_credentials(f"internal error: {exc!r}")
        return CheckOutcome(target, "error", ArticleUpdate(now, error=said), detail=said)


def apply_fetched(store: Store, config: Config, item: Fetched, now: int) -> CheckOutcome:
    """Record one check: its versions or observation, the article's state and next
    check, and its alerts, all in the caller's transaction."""
    with store.write():
        if not store.holds_claim(item.target.id, item.target.claim):
            return _stale(item.target, now)
        if item.error is not None:
            result = _failed(store, config, item.target, item.error, now)
        else:
            assert item.page is not None
            result = _fetched(store, config, item, item.page, now)
        _save(store, config, result, now)
        queue_alerts(store, config, result, now)
    return result


def _stale(target: ArticleTarget, now: int) -> CheckOutcome:
    """Another checker claimed the article while this one fetched: what this one saw
    may be older than what was recorded since, so it is dropped, never recorded."""
    log.warning("dropped a stale check of %s: claimed by another checker meanwhile", target.url)
    detail = "dropped: another checker claimed the article meanwhile"
    return CheckOutcome(target, "stale", ArticleUpdate(now), detail=detail)


def _failed(
    store: Store, config: Config, target: ArticleTarget, error: FetchError, now: int
) -> CheckOutcome:
    if error.status in (404, 410):
        return _missing(store, config, target, f"HTTP {error.status}", now)
    store.add_observation(target.id, now, "error", None)
    said = mask_credentials(str(error))
    update = ArticleUpdate(now, error=said, failures="increment")
    return CheckOutcome(target, "error", update, detail=said)


def _missing(
    store: Store, config: Config, target: ArticleTarget, why: str, now: int
) -> CheckOutcome:
    seen = target.missing_count + 1
    why = mask_credentials(why)
    update = ArticleUpdate(now, error=why, missing="increment")
    if target.state == "removed":
        store.add_observation(target.id, now, "missing", None)
        return CheckOutcome(target, "unchanged", update, detail="still removed")
    if seen < config.check.removal_confirmations:
        store.add_observation(target.id, now, "missing", None)
        detail = f"{why}, {seen} of {config.check.removal_confirmations} before removal"
        return CheckOutcome(target, "missing", update, detail=detail)
    record_removal(store, target.id, now)
    return CheckOutcome(target, "removed", update, ("removed",), why, now)


def _succeeded(now: int, page: Page, digest: str | None) -> ArticleUpdate:
    marks = PageMarks(page.etag, page.last_modified, digest)
    return ArticleUpdate(
        now, error=None, failures="reset", missing="reset", suspect="reset", page=marks
    )


def _fetched(store: Store, config: Config, item: Fetched, page: Page, now: int) -> CheckOutcome:
    target = item.target
    if page.status == 304:
        store.add_observation(target.id, now, "unchanged", None)
        update = ArticleUpdate(now, error=None, failures="reset", missing="reset")
        return CheckOutcome(target, "unchanged", update, detail="304")
    if page.url != config.fetch_url(target.url) and not _same_article(config, target.url, page.url):
        return _missing(store, config, target, f"redirected to {page.url}", now)
    digest = item.digest
    if _known_bytes(target, digest):
        # The same signature: unchanged, with no block walk and no comparison.
        store.add_observation(target.id, now, "duplicate", None)
        return CheckOutcome(target, "unchanged", _succeeded(now, page, digest))
    try:
        article = _extracted(target, page, item)
    except ExtractionError as exc:
        store.add_observation(target.id, now, "error", None)
        said = mask_credentials(str(exc))
        update = ArticleUpdate(now, error=said, failures="increment")
        return CheckOutcome(target, "error", update, detail=f"extraction: {said}")
    return _compared(store, config, item, page, article, now)


def _compared(
    store: Store, config: Config, item: Fetched, page: Page, article: Article, now: int
) -> CheckOutcome:
    """The extracted article against the latest version: unchanged, suspect, or recorded."""
    target, digest = item.target, item.digest
    latest = store.latest_version(target.id)
    if (
        latest is not None
        and latest.fingerprint == article.fingerprint()
        and latest.pudate == article.pudate
    ):
        # Unchanged: the cheap path, one small observation row and the article's counters.
        store.add_observation(target.id, now, "duplicate", latest.ts)
        return CheckOutcome(target, "unchanged", _succeeded(now, page, digest))
    if latest is not None and latest.fingerprint is not None and target.suspect_count < 1:
        before = load_article(store, latest).text_length()
        if article.text_length() < before * config.check.shrink_ratio:
            detail = f"text shrank from {before} to {article.text_length()} chars; held as suspect"
            store.add_observation(target.id, now, "suspect", None)
            update = ArticleUpdate(now, error=detail, failures="increment", suspect="increment")
            return CheckOutcome(target, "error", update, detail=detail)
    recorded = record(store, target.id, now, article, source="fetch", raw_html=page.raw)
    update = _succeeded(now, page, digest)
    if not recorded.new_version:
        return CheckOutcome(target, "unchanged", update)
    kind: Outcome = "new" if "first" in recorded.kinds else "changed"
    if "restored" in recorded.kinds:
        kind = "restored"
    return CheckOutcome(target, kind, update, tuple(recorded.kinds), version_ts=now)


def _extracted(target: ArticleTarget, page: Page, item: Fetched) -> Article:
    parsed = item.parsed if item.page is page else None
    if parsed is None:
        return extract(page.text(), target.url)
    if isinstance(parsed, Exception):
        raise parsed
    return parsed


def _same_article(config: Config, canonical: str, final_url: str) -> bool:
    for prefix, target in config.mirrors:
        if final_url.startswith(target):
            final_url = prefix + final_url[len(target) :]
            break
    try:
        final = normalize(final_url)
    except Exception:  # any URL the normalizer refuses is another article
        return False
    # A site moving an article from http to https (or back) keeps the article.
    return canonical in (final, other_scheme(final))


def _save(store: Store, config: Config, result: CheckOutcome, now: int) -> None:
    """The article's new state and next check, written in one UPDATE."""
    target, update = result.target, result.update
    if result.version_ts is not None:  # the last change may have moved: ask the database
        changed, added = store.change_basis(target.id)
    else:
        changed, added = target.last_change_ts or target.added_at, target.added_at
    # A version key is the time it was seen; an imported archive may be old, but the
    # article's watch starts when it was added.
    failures = {"keep": target.failures, "reset": 0, "increment": target.failures + 1}[
        update.failures
    ]
    interval = next_interval(config.schedule, now, max(changed, added), failures)
    next_check = None if interval is None else now + jittered(config.schedule, interval)
    store.save_check(target, update, next_check)
