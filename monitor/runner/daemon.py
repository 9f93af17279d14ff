"""`monitor run`: the long-running watcher.

One periodic APScheduler job (the tick) claims due articles from the database in
batches, most overdue first, checks them, and delivers the outbox. Nothing about the
articles is held in memory between ticks, so it scales with the database, not RAM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sqlite3
from datetime import datetime
from pathlib import Path

from monitor.clock import now_ms, seconds_ms
from monitor.config import Config
from monitor.errors import MonitorError
from monitor.extraction.parser_pool import ParserPool
from monitor.fetching.fetcher import Fetcher
from monitor.notify.outbox import deliver
from monitor.outcome import ArticleTarget, CheckOutcome
from monitor.runner.check import run_checks
from monitor.runner.status import daemon_status
from monitor.runner.systemd import sd_notify
from monitor.storage.database import Store

log = logging.getLogger("monitor.runner.daemon")


def claim_due(store: Store, now: int, limit: int, lease_ms: int) -> list[ArticleTarget]:
    """Take up to `limit` due articles, most overdue first, for a lease."""
    with store.write():
        return store.claim_due(now, limit, lease_ms)


def spread_overdue(store: Store, config: Config, now: int) -> int:
    """After a restart or a long pause, spread the overdue articles over a window
    instead of fetching them all in the first second."""
    daemon = config.daemon
    with store.write():
        overdue = store.count_overdue(now)
        # As long as checking them at full batch rate would take, at most spread_seconds.
        window = min(daemon.spread_seconds, overdue * daemon.tick_seconds / daemon.batch_size)
        window_ms = seconds_ms(window)
        if overdue and window_ms > 0:
            store.spread_overdue(now, window_ms)
    return overdue


class Daemon:
    def __init__(self, state_dir: Path, config: Config) -> None:
        self.state_dir = state_dir
        self.config = config
        self.stopping = False
        self._tick_task: asyncio.Task[None] | None = None
        self._in_flight: set[int] = set()
        self._last_tick: int | None = None
        self.store: Store | None = None

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.store = store = Store.open(self.state_dir)
        self._refuse_second_daemon(store)
        self._release(store)  # claims of a previous run that died
        self._import_seeds(store)
        spread_overdue(store, self.config, now_ms())
        self._heartbeat(store, "running", started=True)
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(event_loop=loop)
        scheduler.add_job(
            self._tick_job,
            "interval",
            seconds=self.config.daemon.tick_seconds,
            next_run_time=datetime.now(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="tick",
        )
        self.fetcher = Fetcher(self.config.fetch)
        self.parser = _parser_pool(self.config)
        scheduler.start()
        log.info(
            "started: pid %d, database %s, tick every %gs",
            os.getpid(),
            store.path,
            self.config.daemon.tick_seconds,
        )
        sd_notify("READY=1")
        await stop.wait()
        await self._shutdown(scheduler)
        return 0

    async def _shutdown(self, scheduler: object) -> None:
        log.info("stopping")
        sd_notify("STOPPING=1")
        self.stopping = True
        scheduler.pause()  # type: ignore[attr-defined]
        task = self._tick_task
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=self.config.daemon.grace_seconds)
            if not done:
                log.warning("abandoning %d in-flight checks", len(self._in_flight))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        scheduler.shutdown(wait=False)  # type: ignore[attr-defined]
        await self.fetcher.aclose()
        if self.parser is not None:
            self.parser.close()
        assert self.store is not None
        try:
            self._release(self.store)
            self._heartbeat(self.store, "stopped")
        except sqlite3.Error as exc:
            # Leases run out by themselves and status sees a stale heartbeat: no harm.
            log.error("could not record the shutdown (%s)", exc)
        self.store.close()
        log.info("stopped")

    def _refuse_second_daemon(self, store: Store) -> None:
        report = daemon_status(store)
        if report["running"]:
            store.close()
            raise MonitorError(f"another daemon (pid {report['pid']}) is running on {store.path}")

    def _release(self, store: Store) -> None:
        """Abandoned checks change nothing: their articles stay due, unclaimed."""
        with store.write():
            store.release_claims()

    async def _tick_job(self) -> None:
        self._tick_task = asyncio.current_task()
        try:
            await self.tick()
        except sqlite3.Error as exc:
            # A full disk or a read-only file: nothing half-written is kept (each check is
            # one transaction); the next tick tries again once space returns.
            code = getattr(exc, "sqlite_errorname", "")
            hint = " (is the disk full?)" if "FULL" in code or "IOERR" in code else ""
            log.error("database write failed: %s [%s]%s; the next tick will retry", exc, code, hint)
        except Exception:
            log.exception("tick failed; the next tick will retry")

    async def tick(self) -> None:
        store = self.store
        assert store is not None
        daemon = self.config.daemon
        now = now_ms()
        if self._last_tick is not None and now - self._last_tick > 3 * daemon.tick_seconds * 1000:
            spread_overdue(store, self.config, now)  # woke from a long pause
        self._last_tick = now
        self._heartbeat(store, "running", tick=True)
        while not self.stopping:
            batch = claim_due(store, now_ms(), daemon.batch_size, int(daemon.lease_seconds * 1000))
            if not batch:
                break
            self._in_flight = {t.id for t in batch}
            await run_checks(
                store,
                self.config,
                batch,
                fetcher=self.fetcher,
                parser=self.parser,
                on_result=self._on_result,
            )
            self._heartbeat(store, "running")
            if len(batch) < daemon.batch_size:
                break
        if not self.stopping:
            report = await deliver(store, self.config, now_ms)
            if report.sent or report.retrying or report.failed:
                log.info(
                    "outbox: %d sent, %d to retry, %d given up",
                    report.sent,
                    report.retrying,
                    report.failed,
                )

    def _on_result(self, result: CheckOutcome) -> None:
        self._in_flight.discard(result.article_id)
        level = logging.INFO if result.outcome != "unchanged" else logging.DEBUG
        log.log(level, "%s", result.line())

    def _heartbeat(
        self, store: Store, state: str, *, started: bool = False, tick: bool = False
    ) -> None:
        now = now_ms()
        with store.write():
            if started:
                tick_seconds = self.config.daemon.tick_seconds
                store.record_start(os.getpid(), socket.gethostname(), now, tick_seconds)
            else:
                store.record_beat(now, state, tick=tick)
        if state == "running" and not started and not self.stopping:
            sd_notify("WATCHDOG=1")

    def _import_seeds(self, store: Store) -> None:
        seeds = self.config.daemon.seeds
        if not seeds or store.has_articles():
            return
        path = Path(seeds)
        if not path.is_dir():
            log.warning("seeds directory %s not found: starting with no articles", path)
            return
        from monitor.history.importing import import_paths

        summary = import_paths(store, [path])
        for error in summary.errors:
            log.error("seed %s", error)
        log.info(
            "imported %d seed files: %d versions of %d articles",
            summary.files,
            summary.new_versions,
            len(summary.articles),
        )


def _parser_pool(config: Config) -> ParserPool | None:
    workers = config.check.parse_workers
    if workers == 0:
        return None
    return ParserPool(workers)


def run_daemon(state_dir: Path, config: Config) -> int:
    from monitor.event_loop import run

    return run(Daemon(state_dir, config).run())
