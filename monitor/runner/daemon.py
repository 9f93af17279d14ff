"""`monitor run`: the long-running watcher.

A continuous scheduler keeps up to `fetch.concurrency` checks in flight and claims
more as each one ends, leaving room on each host for at most its
`per_host_concurrency` checks, so a slow host only ever holds its own slots. Each
claim is a lease with a fencing token (see storage/checks.py). The heartbeat (with
systemd's WATCHDOG=1) and outbox delivery run on their own timers and never wait for
checks. One daemon per database: an exclusive lock on `daemon.lock`, held for life.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from monitor import identity
from monitor.clock import now_ms, seconds_ms
from monitor.config import Config
from monitor.extraction.parser_pool import ParserPool
from monitor.notify.outbox import deliver
from monitor.outcome import ArticleTarget, CheckOutcome
from monitor.runner.check import CheckPipeline, fetcher_for
from monitor.runner.lock import DaemonLock
from monitor.runner.systemd import sd_notify
from monitor.storage.checks import ClaimRequest
from monitor.storage.database import Store

log = logging.getLogger("monitor.daemon")


def claim_due(
    store: Store,
    config: Config,
    now: int,
    slots: int,
    busy: dict[str, int] | None = None,
    owner: str | None = None,
) -> list[ArticleTarget]:
    """Take up to `slots` due articles, most overdue first, leaving each host room
    for no more than its per-host checks (counting the `busy` ones it has)."""
    request = ClaimRequest(now, seconds_ms(config.daemon.lease_seconds), owner or identity.owner())
    with store.write():
        return store.claim_due(request, slots, config.fetch.per_host_concurrency, busy or {})


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


def release_dead_claims(store: Store, now: int) -> list[str]:
    """Leases of processes that died (a daemon killed -9, a CLI pass) end now, so
    their articles and deliveries need not wait for the leases to run out."""
    with store.write():
        return store.release_dead_claims(now)


class Daemon:
    def __init__(self, state_dir: Path, config: Config) -> None:
        self.state_dir = state_dir
        self.config = config
        self.owner = identity.owner()
        self.stopping = False
        self._timers: list[asyncio.Task[None]] = []
        self._stop_timers = asyncio.Event()
        self._last_look: int | None = None

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self._run_locked(stop)
        return 0

    async def _run_locked(self, stop: asyncio.Event) -> None:
        self.store = store = Store.open(self.state_dir)
        dead = release_dead_claims(store, now_ms())
        if dead:
            log.info("released the leases of %s (no longer running)", ", ".join(dead))
        self._import_seeds(store)
        spread_overdue(store, self.config, now_ms())
        self._heartbeat("running", started=True)
        self.fetcher = fetcher_for(self.config)
        self.parser = _parser_pool(self.config)
        self.pipeline = CheckPipeline(
            store, self.config, self.fetcher, parser=self.parser, on_result=self._on_result
        )
        tick = self.config.daemon.tick_seconds
        self._timers = [
            asyncio.create_task(self._every(tick, self._beat, "heartbeat")),
            asyncio.create_task(self._every(tick, self._deliver, "outbox")),
        ]
        checks = asyncio.create_task(self._check_loop())
        log.info(
            "started: pid %d, database %s, up to %d checks in flight",
            os.getpid(),
            store.path,
            self.config.fetch.concurrency,
        )
        sd_notify("READY=1")
        await stop.wait()
        await self._shutdown(checks)

    # -- the checks ---------------------------------------------------------------
    async def _check_loop(self) -> None:
        tick = self.config.daemon.tick_seconds
        while not self.stopping:
            try:
                self._fill()
                # Wakes as soon as one check ends (a slot is free), else after a tick.
                await self.pipeline.settle(timeout=tick)
            except sqlite3.Error as exc:
                _log_database_error(exc)
                await asyncio.sleep(tick)
            except Exception:
                log.exception("the check loop failed; it goes on after a tick")
                await asyncio.sleep(tick)

    def _fill(self) -> None:
        """Claim due articles into every free slot."""
        now = now_ms()
        daemon = self.config.daemon
        if self._last_look is not None and now - self._last_look > seconds_ms(
            3 * daemon.tick_seconds
        ):
            spread_overdue(self.store, self.config, now)  # woke from a long pause
        self._last_look = now
        free = self.config.fetch.concurrency - self.pipeline.in_flight
        if free <= 0:
            return
        slots = min(free, daemon.batch_size)
        busy = self.pipeline.busy_hosts()
        for target in claim_due(self.store, self.config, now, slots, busy, self.owner):
            self.pipeline.submit(target)

    def _on_result(self, result: CheckOutcome) -> None:
        level = logging.INFO if result.outcome != "unchanged" else logging.DEBUG
        log.log(level, "%s", result.line())

    # -- the timers -----------------------------------------------------------------
    async def _every(self, seconds: float, job: Callable[[], Awaitable[None]], name: str) -> None:
        """Run `job` now and then every `seconds`, on its own: never behind checks."""
        while not self.stopping:
            try:
                await job()
            except sqlite3.Error as exc:
                _log_database_error(exc)
            except Exception:
                log.exception("%s failed; it runs again in %gs", name, seconds)
            # Sleep until the next round, or until shutdown starts: a stop request
            # must not wait out a timer's period.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_timers.wait(), seconds)

    async def _beat(self) -> None:
        self._heartbeat("running", tick=True)
        dead = release_dead_claims(self.store, now_ms())
        if dead:
            log.info("released the leases of %s (no longer running)", ", ".join(dead))

    async def _deliver(self) -> None:
        report = await deliver(self.store, self.config, now_ms, owner=self.owner)
        if report.sent or report.retrying or report.failed:
            log.info(
                "outbox: %d sent, %d to retry, %d given up",
                report.sent,
                report.retrying,
                report.failed,
            )

    def _heartbeat(self, state: str, *, started: bool = False, tick: bool = False) -> None:
        now = now_ms()
        with self.store.write():
            if started:
                tick_seconds = self.config.daemon.tick_seconds
                self.store.record_start(os.getpid(), socket.gethostname(), now, tick_seconds)
            else:
                self.store.record_beat(now, state, tick=tick)
        if state == "running" and not started and not self.stopping:
            sd_notify("WATCHDOG=1")

    # -- stopping ---------------------------------------------------------------------
    async def _shutdown(self, checks: asyncio.Task[None]) -> None:
        """Finish what can finish within `grace_seconds`, drop the rest unrecorded
        (their articles stay due), release this daemon's leases, record the stop."""
        log.info("stopping")
        sd_notify("STOPPING=1")
        self.stopping = True
        self._stop_timers.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.daemon.grace_seconds
        checks.cancel()  # it only ever waits at an await, never inside a write
        await asyncio.gather(checks, return_exceptions=True)
        while self.pipeline.in_flight and (left := deadline - loop.time()) > 0:
            try:
                await self.pipeline.settle(timeout=left)
            except sqlite3.Error as exc:
                _log_database_error(exc)
                break
        abandoned = self.pipeline.abandon()
        if abandoned:
            log.warning("abandoning %d in-flight checks", len(abandoned))
        # A delivery in flight gets what is left of the grace period, then is cancelled;
        # its lease is released below and it is sent again (same key) after a restart.
        _, pending = await asyncio.wait(self._timers, timeout=max(0.0, deadline - loop.time()))
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)
        await self.fetcher.aclose()
        if self.parser is not None:
            self.parser.close(wait=False)
        try:
            with self.store.write():
                self.store.release_claims(self.owner)
            self._heartbeat("stopped")
        except sqlite3.Error as exc:
            # Leases run out by themselves and status sees a stale heartbeat: no harm.
            log.error("could not record the shutdown (%s)", exc)
        self.store.close()
        log.info("stopped")

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


def _log_database_error(exc: sqlite3.Error) -> None:
    # A full disk or a read-only file: nothing half-written is kept (each write is one
    # transaction); the next round tries again once space returns.
    code = getattr(exc, "sqlite_errorname", "")
    hint = " (is the disk full?)" if "FULL" in code or "IOERR" in code else ""
    log.error("database write failed: %s [%s]%s; will retry", exc, code, hint)


def _parser_pool(config: Config) -> ParserPool | None:
    workers = config.check.parse_workers
    if workers == 0:
        return None
    return ParserPool(workers)


def run_daemon(state_dir: Path, config: Config, lock: DaemonLock | None = None) -> int:
    """Run the daemon holding the state directory's lock: the caller's (taken early,
    kept until the process exits) or one taken and released here."""
    from monitor.event_loop import run

    own = lock is None
    held = lock or DaemonLock(state_dir)
    if own:
        held.acquire()
    try:
        return run(Daemon(state_dir, config).run())
    finally:
        if own:
            held.release()
