"""Parsing pages in worker processes: same results, isolation, no orphans."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from monitor.errors import ExtractionError
from monitor.extraction.parser_pool import ParserPool
from monitor.extraction.table import extract
from support.corpus import BIDEN_OLD, ROOT, load_article
from support.daemon import wait_for
from support.pages import nyt_page


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def _worker_pids(pool: ParserPool) -> list[int]:
    return pool.pids()


def test_workers_give_what_parsing_inline_gives() -> None:
    article = load_article(BIDEN_OLD)
    raw = nyt_page(article, charset="gbk").encode("gb18030")
    pool = ParserPool(2)
    try:
        parsed = asyncio.run(pool.parse(raw, "gbk", article.url))
        with pytest.raises(ExtractionError):
            asyncio.run(pool.parse(b"<html><body>no article</body></html>", None, article.url))
    finally:
        pool.close()
    assert parsed == extract(raw.decode("gb18030"), article.url)
    assert parsed.fingerprint() == article.fingerprint()


def test_a_killed_worker_is_replaced_and_the_page_still_parses() -> None:
    article = load_article(BIDEN_OLD)
    raw = nyt_page(article).encode()
    pool = ParserPool(1)
    try:

        async def twice() -> tuple[object, object]:
            first = await pool.parse(raw, "utf-8", article.url)
            for pid in _worker_pids(pool):
                os.kill(pid, signal.SIGKILL)  # a parser crash, as a segfault would end it
            wait_for(lambda: not any(_alive(p) for p in _worker_pids(pool)), "worker gone", 10)
            return first, await pool.parse(raw, "utf-8", article.url)

        first, second = asyncio.run(twice())
    finally:
        pool.close()
    assert first == second


def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys, time
        from monitor.extraction.parser_pool import ParserPool
        pool = ParserPool(2)
        try:
            asyncio.run(pool.parse(b"<p>x</p>", None, "https://example.org/a"))
        except Exception:
            pass  # not an article page; the workers are up, which is the point
        print(*pool.pids(), flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert workers and all(_alive(pid) for pid in workers)
    parent.kill()  # kill -9: no clean-up code runs in the parent
    parent.wait()
    wait_for(lambda: not any(_alive(pid) for pid in workers), "the workers to exit", 10)


def test_a_page_given_up_while_read_costs_its_worker_not_the_pool() -> None:
    """A parse that never ends (its check's deadline passed) must not wedge a worker
    for good: the worker reading it is replaced, and the next page parses."""
    import time

    article = load_article(BIDEN_OLD)
    raw = nyt_page(article).encode()
    pool = ParserPool(1)
    try:
        [stuck] = _worker_pids(pool)

        async def give_up_then_parse() -> object:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(1):
                    await pool.run(time.sleep, 3600)
            return await pool.parse(raw, "utf-8", article.url)

        parsed = asyncio.run(give_up_then_parse())
        wait_for(lambda: not _alive(stuck), "the stuck worker to be killed", 10)
        assert stuck not in _worker_pids(pool)
    finally:
        pool.close()
    assert parsed == extract(raw.decode(), article.url)


def test_many_pages_at_once_come_back_each_to_its_caller() -> None:
    """Pages are answered in order over one socket per worker: with many in flight on
    two workers, each caller still gets its own page's article."""
    base = load_article(BIDEN_OLD)
    pages = []
    for i in range(40):
        article = dataclasses.replace(base, title=f"{base.title} {i}")
        pages.append((article.title, nyt_page(article, token=f"t{i}").encode()))
    pool = ParserPool(2)
    try:

        async def all_at_once() -> list[object]:
            return await asyncio.gather(*(pool.parse(raw, "utf-8", base.url) for _, raw in pages))

        parsed = asyncio.run(all_at_once())
    finally:
        pool.close()
    assert [a.title for a in parsed] == [title for title, _ in pages]  # type: ignore[attr-defined]


def _refuse_to_load() -> None:
    raise RuntimeError("cannot be rebuilt here")


class _Unreadable:
    """Pickles in the worker, but cannot be unpickled by the checking process."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_refuse_to_load, ())


def answer_unreadable() -> _Unreadable:
    return _Unreadable()


def test_an_answer_that_cannot_be_read_fails_its_page_and_not_the_next() -> None:
    article = load_article(BIDEN_OLD)
    raw = nyt_page(article).encode()
    pool = ParserPool(1)
    try:

        async def unreadable_then_parse() -> object:
            with pytest.raises(ExtractionError):
                async with asyncio.timeout(60):  # a lost answer would hang here
                    await pool.run(answer_unreadable)
            return await pool.parse(raw, "utf-8", article.url)

        parsed = asyncio.run(unreadable_then_parse())
    finally:
        pool.close()
    assert parsed == extract(raw.decode(), article.url)
