"""Parsing pages on every core.

Reading a long article (selectolax plus the block walk) takes a few milliseconds,
more than fetching it; on a first check, or a round with many edits, that is the
bottleneck of the one checking process. A pool of worker processes parses instead,
while the checking process goes on fetching and writing.

The workers are separate processes: a page that crashes the parser costs one
worker (replaced) and gives that article a clear error, not the daemon.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from monitor.article import Article
from monitor.errors import ExtractionError

T = TypeVar("T")
log = logging.getLogger("monitor.extraction.parser_pool")


def examine_page(
    raw: bytes, charset: str | None, url: str, known: str | None
) -> tuple[str | None, Article | None]:
    """A page's signature, and its article unless the signature is `known` (in a
    worker)."""
    from monitor.extraction.table import examine

    return examine(raw, charset, url, known)


def parse_page(raw: bytes, charset: str | None, url: str) -> Article:
    """Decode and extract one page (in a worker)."""
    from monitor.extraction.table import extract
    from monitor.fetching.charset import decode

    return extract(decode(charset, raw)[1], url)


def _die_with_parent(parent: int) -> None:
    """Worker start-up: a `kill -9` of the daemon must not leave its workers behind."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


class ParserPool:
    """`await pool.parse(raw, charset, url)`: an Article, or ExtractionError."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the checking process has an event loop and a database open.
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        )

    async def examine(
        self, raw: bytes, charset: str | None, url: str, known: str | None
    ) -> tuple[str | None, Article | None]:
        """(signature, article or None when the signature is `known`), in a worker."""
        return await self._run(examine_page, raw, charset, url, known)

    async def parse(self, raw: bytes, charset: str | None, url: str) -> Article:
        return await self._run(parse_page, raw, charset, url)

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        # A dying worker fails every page in flight: each gets one more try on fresh
        # workers, so only the page that kills the parser twice is given an error.
        for attempt in (1, 2):
            executor = self._executor
            try:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(executor, func, *args)
            except BrokenProcessPool as exc:
                if executor is self._executor:  # the first to notice starts new workers
                    log.error("a page parser process died; starting new ones")
                    executor.shutdown(wait=False, cancel_futures=True)
                    self._executor = self._start()
                if attempt == 2:
                    raise ExtractionError("the page parser crashed on this page") from exc
        raise AssertionError("unreachable")

    def close(self, wait: bool = True) -> None:
        """Stop the workers; without `wait`, a parse in progress is not waited for
        (a stopping daemon's workers die with it: see _die_with_parent)."""
        self._executor.shutdown(wait=wait, cancel_futures=True)
