"""Check throughput against bare GET loops over the same URLs at the same concurrency."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.site import CANONICAL_PREFIX, variant, write_page
from monitor.article import Article
from monitor.config import Config, FetchSettings
from monitor.event_loop import run as run_async
from monitor.extraction.parser_pool import ParserPool
from monitor.outcome import CheckOutcome
from monitor.runner.check import check_pass
from monitor.snapshot import Snapshot
from monitor.storage.database import Store

CONCURRENCY = 10
HTTPX_LOOP = "bare loop: plain httpx"
AIOHTTP_LOOP = "bare loop: raw aiohttp"
AIOHTTP_UVLOOP = "bare loop: raw aiohttp on uvloop (for reference)"


@dataclass
class Run:
    name: str
    pages: int
    seconds: float
    cpu_seconds: float
    outcomes: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.pages / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu_seconds / self.pages * 1000


async def _httpx_loop(urls: list[str]) -> None:
    import httpx

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:

        async def get(url: str) -> None:
            async with gate:
                response = await client.get(url)
                _ = response.content

        await asyncio.gather(*(get(u) for u in urls))


async def _aiohttp_loop(urls: list[str]) -> None:
    import aiohttp

    gate = asyncio.Semaphore(CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def get(url: str) -> None:
            async with gate, session.get(url) as response:
                await response.read()

        await asyncio.gather(*(get(u) for u in urls))


def _timed(name: str, pages: int, func: object) -> Run:
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = func()  # type: ignore[operator]
    run = Run(name, pages, time.perf_counter() - wall, time.process_time() - cpu)
    if isinstance(outcome, Counter):
        run.outcomes = dict(outcome)
    return run


def baselines(base_url: str, count: int) -> list[Run]:
    urls = [f"{base_url}varying/article-{i}/" for i in range(count)]
    asyncio.run(_aiohttp_loop(urls[: min(50, count)]))  # warm up
    # The baselines run on asyncio's own loop, as a plain script would; the monitor
    # runs on uvloop (monitor.event_loop), so raw aiohttp on uvloop is printed beside them.
    return [
        _timed(HTTPX_LOOP, count, lambda: asyncio.run(_httpx_loop(urls))),
        _timed(AIOHTTP_LOOP, count, lambda: asyncio.run(_aiohttp_loop(urls))),
        _timed(AIOHTTP_UVLOOP, count, lambda: run_async(_aiohttp_loop(urls))),
    ]


def config_for(base_url: str, mode: str, transport: str) -> Config:
    # All bench pages share one host: the per-host politeness limits are turned off.
    fetch = FetchSettings(
        concurrency=CONCURRENCY,
        per_host_concurrency=CONCURRENCY,
        per_host_delay_s=0.0,
        retries=0,
        transport=transport,
        allow_private_addresses=True,  # nginx on 127.0.0.1 (a mirror too, but be explicit)
    )
    return Config(fetch=fetch, mirrors=((CANONICAL_PREFIX, f"{base_url}{mode}/"),))


def check_all(store: Store, config: Config, parser: ParserPool | None = None) -> Counter[str]:
    outcomes: Counter[str] = Counter()

    def count(r: CheckOutcome) -> None:
        outcomes[r.outcome + (f" ({r.detail})" if r.outcome == "error" else "")] += 1

    run_async(
        check_pass(
            store, config, ids=None, due_only=False, owner="bench", parser=parser, on_result=count
        )
    )
    return outcomes


def monitor_runs(
    store: Store,
    base_url: str,
    site: Path,
    bases: list[tuple[Snapshot, Article]],
    count: int,
    transport: str,
    edited_fraction: float,
    parser: ParserPool | None = None,
    hard_store: Store | None = None,
) -> list[Run]:
    runs = []
    identical = config_for(base_url, "identical", transport)
    varying = config_for(base_url, "varying", transport)
    hard = config_for(base_url, "hard", transport)
    _clear_validators(store)
    # Pages edited in an earlier round were written back since: real changes (reverts).
    reverted = _edited_last_round(store)
    run = _timed(
        f"monitor [{transport}]: unchanged, identical bytes",
        count,
        lambda: check_all(store, identical, parser),
    )
    if reverted:
        run.outcomes["expected changed"] = reverted
    runs.append(run)
    runs.append(
        _timed(
            f"monitor [{transport}]: 304 Not Modified",
            count,
            lambda: check_all(store, identical, parser),
        )
    )
    _clear_validators(store)
    runs.append(
        _timed(
            f"monitor [{transport}]: unchanged, varying bytes",
            count,
            lambda: check_all(store, varying, parser),
        )
    )
    if hard_store is not None:
        runs.append(
            _timed(
                f"monitor [{transport}]: unchanged, hard pages (varying inside the article)",
                count,
                lambda: check_all(hard_store, hard, parser),
            )
        )
    rng = random.Random(count)
    edited = rng.sample(range(count), max(1, int(count * edited_fraction)))
    round_no = _next_edit_round(store)
    for i in edited:
        write_page(site, i, variant(bases, i, edit=round_no), rng)
    run = _timed(
        f"monitor [{transport}]: {len(edited)} of {count} edited",
        count,
        lambda: check_all(store, varying, parser),
    )
    run.outcomes["expected changed"] = len(edited)
    runs.append(run)
    return runs


def _clear_validators(store: Store) -> None:
    with store.write():
        store.conn.execute("UPDATE articles SET etag = NULL, last_modified = NULL")


def _edited_last_round(store: Store) -> int:
    row = store.conn.execute(
        "SELECT count(*) FROM articles WHERE versions_count = "
        "(SELECT max(versions_count) FROM articles) AND versions_count > 1"
    ).fetchone()
    return int(row[0])


def _next_edit_round(store: Store) -> int:
    row = store.conn.execute("SELECT max(versions_count) FROM articles").fetchone()
    return int(row[0] or 1)
